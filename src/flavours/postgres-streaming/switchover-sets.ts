import type { NodeConfig, Topology } from '../../config/topology';
import { planFail } from '../../runbook/plan-error';
import type { Runbook } from '../../runbook/types';
import type { NodeSetContext } from '../types';
import type { PostgresNodeStatus, PostgresReport } from './report';
import { CATCH_UP_TIMEOUT_MS } from './runbooks/switchover-steps';

type Ctx = NodeSetContext<PostgresReport>;

/** Node sets of the planned runbooks (switchover, new data center); the failover ones are in node-sets.ts. */
export const SWITCHOVER_NODE_SETS = [
  'acting-primary',
  'switchover-standbys',
  'switchover-followers',
  'new-dc-first',
  'new-dc-others',
  'new-dc-followers',
] as const;

const configOf = (topology: Topology, name: string): NodeConfig | undefined =>
  topology.nodes.find((n) => n.name === name);

const controllable = (topology: Topology, name: string): boolean => {
  const n = configOf(topology, name);
  return !!n?.host && !!n.service;
};

const answers = (n: PostgresNodeStatus) => n.reachable && n.error === null && n.role !== 'unknown';

/** The one primary that answers: a planned switchover starts from a healthy, known primary. */
export function actingPrimary(ctx: Ctx): PostgresNodeStatus {
  const primaries = ctx.report.nodes.filter((n) => n.role === 'primary');
  if (primaries.length > 1)
    planFail('refused', `${primaries.map((p) => p.name).join(' and ')} all answer as primary: split brain`);
  return (
    primaries[0] ?? planFail('no-candidate', 'needs a running primary to switch over from, but none answers')
  );
}

const dataCenterOf = (ctx: Ctx, name: string) =>
  configOf(ctx.topology, name)?.postgres?.dataCenter ?? 'default';

/** The new data center's other nodes: cloned locally from the first one (--target), never across the WAN. */
function newDcOthers(ctx: Ctx): string[] {
  const first =
    ctx.target ?? planFail('target-required', 'needs --target: the first node of the new data center');
  const dc = dataCenterOf(ctx, first);
  return ctx.topology.nodes
    .filter((n) => n.name !== first && n.postgres?.dataCenter === dc)
    .map((n) => n.name);
}

/**
 * Standbys that answer, other than the switchover target: repointed at it. (A new data center's
 * nodes never answer at plan time, checkNewDc refuses otherwise: they follow the target by cascade.)
 */
function switchoverStandbys(ctx: Ctx): string[] {
  return ctx.report.nodes
    .filter((n) => n.role === 'standby' && answers(n) && n.name !== ctx.target)
    .map((n) => n.name);
}

export function switchoverNodeSet(name: string, ctx: Ctx): string[] | null {
  switch (name) {
    case 'acting-primary':
      return [actingPrimary(ctx).name];
    case 'switchover-standbys':
      return switchoverStandbys(ctx);
    case 'switchover-followers':
      // After the switchover the old primary follows too: it is checked like any standby.
      return [...switchoverStandbys(ctx), actingPrimary(ctx).name];
    case 'new-dc-first':
      return [
        ctx.target ?? planFail('target-required', 'needs --target: the first node of the new data center'),
      ];
    case 'new-dc-others':
      return newDcOthers(ctx);
    case 'new-dc-followers':
      return [...switchoverStandbys(ctx), ...newDcOthers(ctx), actingPrimary(ctx).name];
    default:
      return null;
  }
}

const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB`;
const duration = (s: number) =>
  s < 90 ? `${Math.ceil(s)} s` : s < 5400 ? `${Math.ceil(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;

/**
 * Seed 003 A.3 / SYSTEMS.md §2.3 WAN rule: the one base backup across data centers takes
 * size / min(link rate, --max-rate). Said before anyone approves it.
 */
export function wanEstimate(ctx: Ctx): string {
  if (!ctx.target) return 'no target';
  const primary = ctx.report.nodes.find((n) => n.role === 'primary');
  if (!primary) return 'no primary to copy from';
  const from = dataCenterOf(ctx, primary.name);
  const to = dataCenterOf(ctx, ctx.target);
  const link = ctx.topology.postgres?.linkRates[`${from}->${to}`];
  const cap = ctx.topology.postgres?.maxRate;
  const size = primary.databaseBytes;
  const rate = Math.min(link ?? Infinity, cap ?? Infinity);
  const sizeText = size === null ? 'unknown size' : mb(size);
  const rateText = `${link ? `link ${from}->${to} ${mb(link)}/s` : `no link rate configured for ${from}->${to}`}, --max-rate ${cap ? `${mb(cap)}/s` : 'unlimited'}`;
  if (size === null || !Number.isFinite(rate))
    return `${sizeText} from ${primary.name} (${rateText}): transfer time unknown`;
  const share = link && cap ? `, ${Math.round((Math.min(cap, link) / link) * 100)}% of the link` : '';
  return `${sizeText} from ${primary.name} (${rateText}${share}): about ${duration(size / rate)}`;
}

/** Refusals of the planned runbooks, before anything is stopped; returns warnings. */
export function checkSwitchoverTarget(runbook: Runbook, ctx: Ctx): string[] {
  const { target, topology } = ctx;
  if (!target) return [];
  const primary = actingPrimary(ctx);
  if (!controllable(topology, primary.name))
    planFail(
      'refused',
      `${primary.name} cannot be stopped by Recover (no host/service): a clean stop is what proves zero loss`,
    );
  if (runbook.name === 'postgres-new-datacenter') return checkNewDc(ctx, primary);
  const settings = configOf(topology, target)?.postgres;
  const refuse: (why: string) => never = (why) => planFail('refused', `no switchover to ${target}: ${why}`);
  const node = ctx.report.nodes.find((n) => n.name === target);
  if (!node || !answers(node) || node.role !== 'standby')
    refuse(`it is not a standby that answers (${node?.error ?? node?.role ?? 'unknown'})`);
  if (settings?.backupOnly || settings?.priority === 0) refuse('it is backup-only or has priority 0');
  if (node.replayPaused) refuse('its WAL replay is paused (someone paused it on purpose: resume it first)');
  if (node.timeline !== primary.timeline)
    refuse(`it is on timeline ${node.timeline ?? '?'}, ${primary.name} on ${primary.timeline ?? '?'}`);
  if (!node.streaming)
    refuse(
      `it is not streaming: it could not receive ${primary.name}'s last WAL, so zero loss could not be proven`,
    );
  const warnings: string[] = [];
  const max = topology.postgres?.maxLagBytes ?? MB;
  if (node.lagBytes === null || node.lagBytes > max)
    warnings.push(
      `${target} is ${node.lagBytes ?? 'an unknown number of'} bytes behind ${primary.name}: writes stay down while it catches up (refused after ${CATCH_UP_TIMEOUT_MS / 1000} s)`,
    );
  // Not repointed by this run: they keep following the stopped primary until someone acts.
  for (const n of ctx.report.nodes.filter((x) => x.name !== target && x.role === 'unknown'))
    warnings.push(
      `${n.name} could not be read (${n.error ?? 'unknown'}): it is not repointed; afterwards run postgres-rebuild-standby --target ${n.name}`,
    );
  return warnings;
}

function checkNewDc(ctx: Ctx, primary: PostgresNodeStatus): string[] {
  const target = ctx.target as string;
  const dc = dataCenterOf(ctx, target);
  const refuse = (why: string) => planFail('refused', `no new data center from ${target}: ${why}`);
  if (dc === dataCenterOf(ctx, primary.name)) refuse(`it is in ${dc}, the primary's own data center`);
  for (const name of [target, ...newDcOthers(ctx)]) {
    const n = ctx.report.nodes.find((x) => x.name === name);
    if (n && answers(n))
      refuse(`${name} already runs as a ${n.role}: use postgres-switchover or postgres-rebuild-standby`);
    if (!controllable(ctx.topology, name))
      refuse(`${name} has no host/service: Recover cannot seed and start it`);
  }
  return [`WAN transfer (base backup of ${target}, once): ${wanEstimate(ctx)}`];
}
