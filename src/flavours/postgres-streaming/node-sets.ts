import type { NodeConfig, Topology } from '../../config/topology';
import { planFail } from '../../runbook/plan-error';
import type { Runbook } from '../../runbook/types';
import type { NodeSetContext } from '../types';
import { blockingRefusals } from './propose';
import type { PostgresReport } from './report';
import {
  checkSwitchoverTarget,
  SWITCHOVER_NODE_SETS,
  switchoverNodeSet,
  wanEstimate,
} from './switchover-sets';

type Ctx = NodeSetContext<PostgresReport>;

export const POSTGRES_NODE_SETS = [
  'candidate',
  'data-loss-gate',
  'old-primary',
  'repoint-standbys',
  'rewind-standbys',
  'other-standbys',
  'primary',
  ...SWITCHOVER_NODE_SETS,
] as const;

const configOf = (topology: Topology, name: string): NodeConfig | undefined =>
  topology.nodes.find((n) => n.name === name);

/** A node Recover can stop and start itself (SSH host and service commands configured). */
const controllable = (topology: Topology, name: string): boolean => {
  const n = configOf(topology, name);
  return !!n?.host && !!n.service;
};

/** The standby that will be promoted; planning refuses while unliftable refusals stand. */
function candidate(ctx: Ctx): string {
  const p = ctx.report.proposal;
  if (ctx.target !== null && ctx.target !== p.candidate)
    planFail(
      'bad-target',
      `${ctx.target} is not the candidate (${p.candidate ?? 'none'}): ${p.verdicts[ctx.target] ?? 'not a node'}`,
    );
  return p.candidate ?? planFail('no-candidate', `needs a standby to promote, but ${refusalText(ctx)}`);
}

const refusalText = (ctx: Ctx): string =>
  ctx.report.proposal.refusals.map((r) => r.message).join('; ') || 'none qualifies';

/** Standbys other than the candidate that answer: repointed if behind the fork, rewound if past it. */
function otherStandbys(ctx: Ctx): string[] {
  const p = ctx.report.proposal;
  return ctx.report.nodes
    .filter((n) => n.role === 'standby' && n.name !== p.candidate && n.reachable && n.error === null)
    .map((n) => n.name);
}

export function postgresNodeSet(name: string, ctx: Ctx): string[] {
  const p = ctx.report.proposal;
  const ahead = new Set(p.aheadOfCandidate.map((a) => a.node));
  switch (name) {
    case 'candidate':
      return [candidate(ctx)];
    case 'data-loss-gate':
      return p.refusals.length > 0 ? [candidate(ctx)] : [];
    case 'old-primary': {
      const old = p.formerPrimary ?? ctx.topology.master ?? null;
      return old && old !== p.candidate && controllable(ctx.topology, old) ? [old] : [];
    }
    case 'repoint-standbys':
      return otherStandbys(ctx).filter((n) => !ahead.has(n));
    case 'rewind-standbys':
      return otherStandbys(ctx).filter((n) => ahead.has(n));
    case 'other-standbys':
      return otherStandbys(ctx);
    case 'primary': {
      const primary = ctx.report.nodes.find((n) => n.role === 'primary');
      return primary ? [primary.name] : planFail('no-candidate', 'needs a running primary, but none answers');
    }
    default:
      return (
        switchoverNodeSet(name, ctx) ??
        planFail('bad-runbook', `no node set "${name}" in a postgres-streaming fleet`)
      );
  }
}

export function postgresEmptySetReason(name: string): string {
  if (name === 'data-loss-gate') return 'Nothing refuses the failover';
  if (name === 'old-primary') return 'The old primary cannot be stopped by Recover (no host or service)';
  if (name === 'rewind-standbys') return 'No standby is past the fork point';
  if (name === 'new-dc-others') return 'The new data center has no other node';
  return 'No other standby answers';
}

/** Refusals that no gate lifts stop the plan; the others are shown and need the allow-data-loss gate. */
export function postgresCheckTarget(runbook: Runbook, ctx: Ctx): string[] {
  const p = ctx.report.proposal;
  const { target, topology } = ctx;
  if (runbook.target === 'none' && target !== null)
    planFail('target-unexpected', `runbook ${runbook.name} takes no --target (got ${target})`);
  if (runbook.target !== 'none') {
    if (target === null)
      planFail('target-required', `runbook ${runbook.name} needs --target: name a node of ${topology.name}`);
    if (!configOf(topology, target))
      planFail(
        'unknown-target',
        `${target} is not a node of ${topology.name} (${topology.nodes.map((n) => n.name).join(', ')})`,
      );
  }
  if (runbook.name === 'postgres-switchover' || runbook.name === 'postgres-new-datacenter')
    return checkSwitchoverTarget(runbook, ctx);
  if (!runbook.name.endsWith('failover')) return [];
  const hard = blockingRefusals(p).filter((r) => !r.liftable);
  if (hard.length > 0)
    planFail('refused', `no failover: ${hard.map((r) => `${r.message} [${r.code}]`).join('; ')}`);
  const warnings = p.refusals.map(
    (r) => `Refused unless a second person approves the allow-data-loss gate: ${r.message} [${r.code}]`,
  );
  const old = p.formerPrimary ?? topology.master ?? null;
  if (old && old !== p.candidate && !controllable(topology, old))
    warnings.push(
      `Old primary ${old} is UNFENCED: Recover cannot stop it (no host/service in the topology). Make sure it cannot come back as primary before approving the promotion.`,
    );
  return warnings;
}

const quoteSetting = (v: string | number) =>
  typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`;

/** `${name}` values for command steps on `node`: its own settings and the candidate's conninfo. */
export function postgresArgValues(node: string, ctx: Ctx): Record<string, string> {
  const n = configOf(ctx.topology, node);
  const pg = n?.postgres;
  const values: Record<string, string> = {};
  if (n?.db) {
    values['node.host'] = n.db.host;
    values['node.port'] = String(n.db.port);
    values['node.user'] = n.db.user;
    values['node.database'] = n.db.database;
  }
  if (pg) {
    values['node.dataDir'] = pg.dataDir;
    values['node.binDir'] = pg.binDir;
    values['node.conninfo'] = pg.conninfo;
    values['node.localSettings'] = Object.entries(pg.localSettings)
      .map(([k, v]) => `${k} = ${quoteSetting(v)}`)
      .join('\n');
    if (pg.archiveDir) values['node.archiveDir'] = pg.archiveDir;
  }
  const p = ctx.report.proposal;
  const primary = ctx.report.nodes.find((x) => x.role === 'primary')?.name ?? null;
  // candidate.*: the standby to promote; source.*: where a rebuilt standby copies from (the primary);
  // target.*: the --target node (switchover: the new primary; new data center: what its others clone from).
  for (const [prefix, name] of [
    ['candidate', p.candidate],
    ['source', primary ?? p.candidate],
    ['target', ctx.target],
  ] as const) {
    const cfg = name ? configOf(ctx.topology, name)?.postgres : undefined;
    if (!name || !cfg) continue;
    values[`${prefix}.name`] = name;
    values[`${prefix}.conninfo`] = `${cfg.conninfo} application_name=${node}`;
    values[`${prefix}.server`] = `${cfg.conninfo} dbname=postgres`;
  }
  // pg_basebackup --max-rate takes kB/s; the topology says bytes/s. Empty: unlimited.
  const rate = ctx.topology.postgres?.maxRate;
  values['maxRate'] = rate ? `${Math.max(32, Math.floor(rate / 1024))}k` : '';
  values['primary.name'] = primary ?? 'no primary';
  values['wanEstimate'] = wanEstimate(ctx);
  values['lossBytes'] =
    p.allowDataLoss.bytesAtRisk === null ? 'an unknown number of' : String(p.allowDataLoss.bytesAtRisk);
  values['refusals'] = p.refusals.map((r) => r.code).join(', ') || 'none';
  return values;
}
