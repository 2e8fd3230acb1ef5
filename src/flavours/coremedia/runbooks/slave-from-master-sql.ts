import { readLastChangelog } from './common-steps';
import type { Runbook, StepTemplate, ValueTemplate } from '../../../runbook/types';

const fromChangelog = (capture: 'sequenceno' | 'idtag'): ValueTemplate => ({
  capture,
  step: 'read-changelog',
  node: 'same',
});

/** One of the seed's three INSERTs; all three share a gate so that one approval covers them. */
const insertReplicatorRow = (
  property: 'replicator_remote' | 'replicator_local' | 'replicator_tag',
  value: ValueTemplate,
): StepTemplate => ({
  id: `insert-${property.replace('_', '-')}`,
  title: `Set ${property} on the restored slave`,
  target: { kind: 'target' },
  action: {
    kind: 'sql',
    sql: `INSERT INTO {{system}} (property, content) VALUES ('${property}', ?)`,
    params: [value],
  },
  risk: 'destructive',
  check: { kind: 'affected-rows', equals: 1 },
  gate: 'replicator-rows',
});

/**
 * The steps from "fetch the last changelog entry" to "Set the proper server type", all on the
 * --target slave; shared with the full `slave-from-master` runbook.
 */
export const slaveFromMasterSqlSteps: StepTemplate[] = [
  readLastChangelog('read-changelog', 'Fetch the last changelog entry (note sequenceno and idtag)', {
    kind: 'target',
  }),
  insertReplicatorRow('replicator_remote', fromChangelog('sequenceno')),
  insertReplicatorRow('replicator_local', fromChangelog('sequenceno')),
  insertReplicatorRow('replicator_tag', fromChangelog('idtag')),
  {
    id: 'delete-licenses',
    title: 'Remove the content of the named license tracking table',
    target: { kind: 'target' },
    action: { kind: 'sql', sql: 'DELETE FROM {{CmLicenses}}', params: [] },
    risk: 'destructive',
  },
  {
    id: 'set-server-type',
    title: 'Set the proper server type (expect: Updated 1 rows)',
    target: { kind: 'target' },
    action: {
      kind: 'sql',
      sql: "UPDATE {{system}} SET content='live' WHERE property='repository_server_type' AND content='publication'",
      params: [],
    },
    risk: 'destructive',
    check: { kind: 'affected-rows', equals: 1 },
  },
];

/**
 * Seed 001, the SQL part of "restore a Slave Live Server database from a Master Live Server
 * backup": run on the slave after its database was restored from the master's backup, from
 * "fetch the last changelog entry" to "Set the proper server type". The slave is stopped.
 */
export const slaveFromMasterSql: Runbook = {
  name: 'slave-from-master-sql',
  flavour: 'coremedia',
  title: "Slave restored from the master's backup: replicator rows, licenses, server type",
  source: '001_e64b92dbc0342d9e.txt',
  target: 'slave',
  steps: slaveFromMasterSqlSteps,
};
