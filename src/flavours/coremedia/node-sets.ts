import { planFail } from '../../runbook/plan-error';
import type { Runbook } from '../../runbook/types';
import type { NodeSetContext } from '../types';
import type { CoremediaReport } from './report';

type Ctx = NodeSetContext<CoremediaReport>;

export const COREMEDIA_NODE_SETS = [
  'master',
  'dedicated-slave',
  'each-in-sync', // every consistent slave with the dedicated number
  'each-to-restore',
  'each-slave',
] as const;

export function coremediaMaster(ctx: Ctx): string {
  return ctx.topology.master ?? planFail('bad-runbook', `topology ${ctx.topology.name} names no master`);
}

export function coremediaNodeSet(name: string, ctx: Ctx): string[] {
  const s = ctx.report;
  switch (name) {
    case 'master':
      return [coremediaMaster(ctx)];
    case 'dedicated-slave': {
      if (s.dedicatedSlave !== null) return [s.dedicatedSlave];
      const why = s.warnings.find((w) => w.code === 'no-reachable-slave' || w.code === 'no-consistent-slave');
      return planFail(
        'no-dedicated-slave',
        `needs the dedicated slave, but there is none: ${why?.message ?? 'no slave qualifies'}`,
      );
    }
    case 'each-in-sync':
      return [...s.inSync];
    case 'each-to-restore':
      return [...s.toRestore];
    case 'each-slave':
      return ctx.topology.nodes.map((n) => n.name).filter((n) => n !== ctx.topology.master);
    default:
      return planFail('bad-runbook', `no node set "${name}" in a CoreMedia fleet`);
  }
}

export function coremediaEmptySetReason(name: string): string {
  if (name === 'each-to-restore') return 'No slave to restore';
  if (name === 'each-in-sync') return 'No slave in sync with the dedicated sequence';
  return 'No slave in the topology';
}

/** Validates --target for a CoreMedia runbook; returns warnings about it. */
export function coremediaCheckTarget(runbook: Runbook, ctx: Ctx): string[] {
  const { name } = runbook;
  const { topology, report: status, target } = ctx;
  const fleet = topology.name;
  if (runbook.target === 'none') {
    if (target !== null) planFail('target-unexpected', `runbook ${name} takes no --target (got ${target})`);
    return [];
  }
  const role = runbook.target === 'slave' ? 'a slave' : 'a node';
  if (target === null)
    planFail('target-required', `runbook ${name} needs --target: name ${role} of ${fleet}`);
  const names = topology.nodes.map((n) => n.name);
  if (!names.includes(target))
    planFail('unknown-target', `${target} is not a node of ${fleet} (${names.join(', ')})`);
  if (runbook.target === 'slave' && target === topology.master)
    planFail('bad-target', `${target} is the master of ${fleet}; runbook ${name} needs a slave as --target`);
  const node = status.nodes.find((n) => n.name === target)!;
  // The probe's words for a slave that answered but has no replicator rows: exactly the state a
  // freshly restored database is in, so it is a valid --target (the runbook is what sets them).
  const fresh = node.reachable && node.role === 'slave' && node.replicatorRowsMissing;
  if (fresh)
    return [
      `Target ${target} has no replicator rows yet (as after a restore); the planner counts it as unknown, this runbook sets them.`,
    ];
  if (!node.reachable || node.error !== null || status.unknown.includes(target))
    planFail(
      'target-unreadable',
      `${target}'s state could not be read (${node.error ?? 'not fully read'}): fix or re-probe it before planning on it`,
    );
  return [];
}
