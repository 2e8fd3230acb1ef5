import type { Topology } from '../../config/topology';
import { planFail } from '../../runbook/plan-error';
import type { Runbook } from '../../runbook/types';
import type { NodeSetContext } from '../types';
import { tungstenSchema } from './config';
import { backupOf, binDirOf, datasourceOf, sourceIdOf, topologySettings } from './probe';
import type { TungstenReport } from './report';

type Ctx = NodeSetContext<TungstenReport>;

export const TUNGSTEN_NODE_SETS = ['primary'] as const;

export function tungstenNodeSet(name: string, ctx: Ctx): string[] {
  if (name !== 'primary') return planFail('bad-runbook', `no node set "${name}" in a tungsten cluster`);
  const p = ctx.report.proposal.primary;
  return [
    p ??
      planFail(
        'no-candidate',
        'needs the primary (its THL gives the reset values), but no single node answers as primary',
      ),
  ];
}

export const tungstenEmptySetReason = (): string => 'No primary';

/**
 * The target must be a replica the manager knows, with a backup configured; global refusals
 * (manager unreachable, no primary, CLIs too old, THL unreadable) and the target's own stop the plan.
 */
export function tungstenCheckTarget(runbook: Runbook, ctx: Ctx): string[] {
  const { target, topology, report } = ctx;
  if (runbook.target === 'none') {
    if (target !== null)
      planFail('target-unexpected', `runbook ${runbook.name} takes no --target (got ${target})`);
    return [];
  }
  if (target === null)
    planFail('target-required', `runbook ${runbook.name} needs --target: name a replica of ${topology.name}`);
  const config = topology.nodes.find((n) => n.name === target);
  if (!config)
    planFail(
      'unknown-target',
      `${target} is not a node of ${topology.name} (${topology.nodes.map((n) => n.name).join(', ')})`,
    );
  const node = report.nodes.find((n) => n.name === target);
  if (node?.role === 'primary')
    planFail(
      'refused',
      `${target} is the primary: an external restore targets a replica only (switch the primary away first) [target-is-primary]`,
    );
  const refusals = report.proposal.refusals.filter((r) => r.node === null || r.node === target);
  if (refusals.length > 0)
    planFail(
      'refused',
      `no restore of ${target}: ${refusals.map((r) => `${r.message} [${r.code}]`).join('; ')}`,
    );
  if (node?.role !== 'replica')
    planFail(
      'refused',
      `${target} is not known to be a replica (${report.proposal.verdicts[target] ?? 'not read'}) [not-a-replica]`,
    );
  if (!config.host)
    planFail('refused', `${target} has no host in the topology: the runbook runs the Tungsten CLIs there`);
  if (!backupOf(config))
    planFail(
      'refused',
      `${target} has no tungsten.backup in the topology: say which backup to restore and whose position it carries`,
    );
  return [];
}

/** `${name}` values for argv, stdin, titles and rule args on `node`. */
export function tungstenArgValues(node: string, ctx: Ctx): Record<string, string> {
  const topology: Topology = ctx.topology;
  const n = topology.nodes.find((x) => x.name === node);
  const { service } = topologySettings(topology);
  const values: Record<string, string> = { service, schema: tungstenSchema(service), 'node.name': node };
  if (n) {
    values['node.binDir'] = binDirOf(n);
    values['node.datasource'] = datasourceOf(n);
    values['node.sourceId'] = sourceIdOf(n);
    const backup = backupOf(n);
    if (backup) {
      values['backup.kind'] = backup.kind;
      values['backup.path'] = backup.path;
      values['backup.from'] = backup.from;
      values['backup.restore'] = backup.restore ?? '';
    }
  }
  return values;
}
