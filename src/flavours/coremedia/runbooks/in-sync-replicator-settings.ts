import { readLastChangelog } from './common-steps';
import type { Runbook, StepTemplate, TargetSpec, ValueTemplate } from '../../../runbook/types';

export type ReplicatorProperty = 'replicator_remote' | 'replicator_local' | 'replicator_tag';

/**
 * One of seed 000's three UPDATEs (`UPDATE system SET content='<value>' WHERE property='…'`),
 * with the value taken from a captured changelog row. Every node of the step must have exactly
 * one such row: "Updated 1 rows".
 */
export function updateReplicatorRow(
  property: ReplicatorProperty,
  o: { id: string; title: string; target: TargetSpec; value: ValueTemplate; gate: string },
): StepTemplate {
  return {
    id: o.id,
    title: o.title,
    target: o.target,
    action: {
      kind: 'sql',
      sql: `UPDATE {{system}} SET content=? WHERE property='${property}'`,
      params: [o.value],
    },
    risk: 'destructive',
    check: { kind: 'affected-rows', equals: 1 },
    independent: true,
    gate: o.gate,
  };
}

/** One of seed 000's three UPDATEs, on every in-sync slave at once; one approval covers all three. */
export const updateOnInSync = (property: ReplicatorProperty, capture: 'sequenceno' | 'idtag'): StepTemplate =>
  updateReplicatorRow(property, {
    id: `update-${property.replace('_', '-')}`,
    title: `Set ${property} on every slave with the dedicated sequence number`,
    target: { kind: 'each-in-sync' },
    value: { capture, step: 'read-master-changelog', node: 'single' },
    gate: 'replicator-settings',
  });

/**
 * Seed 000, steps 7 and 8: after the master's database was restored from the dedicated slave's
 * backup, read the master's last changelog row and point every slave with the dedicated sequence
 * number at it. The master must still be stopped (the full runbook stops it first).
 */
export const inSyncReplicatorSettings: Runbook = {
  name: 'in-sync-replicator-settings',
  flavour: 'coremedia',
  title: "Point the in-sync slaves at the restored master's last changelog entry",
  source: '000_f77c06dcedba2dfe.txt',
  target: 'none',
  steps: [
    readLastChangelog(
      'read-master-changelog',
      'On the master, fetch the last changelog entry (note sequenceno and idtag)',
      { kind: 'master' },
    ),
    updateOnInSync('replicator_remote', 'sequenceno'),
    updateOnInSync('replicator_local', 'sequenceno'),
    updateOnInSync('replicator_tag', 'idtag'),
  ],
};
