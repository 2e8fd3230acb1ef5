import type { PlanBasis, Runbook } from '../../runbook/types';
import type { NodeSetContext } from '../types';
import type { TungstenReport } from './report';
import { tungstenProposalLine } from './status-text';

interface BasisFacts {
  primary: string | null;
  /** The primary's epoch when the plan was made: a new one means it went online again (a failover, a restart). */
  epoch: number | null;
  roles: Record<string, string>;
}

const factsOf = (r: TungstenReport): BasisFacts => {
  const primary = r.nodes.find((n) => n.name === r.proposal.primary);
  return {
    primary: r.proposal.primary,
    epoch: primary?.replicator?.latestEpochNumber ?? null,
    roles: Object.fromEntries(r.nodes.map((n) => [n.name, n.role])),
  };
};

export function tungstenBasis(_runbook: Runbook, ctx: NodeSetContext<TungstenReport>): PlanBasis {
  const r = ctx.report;
  return {
    flavour: 'tungsten',
    probedAt: r.probedAt,
    unknown: [...r.unknown],
    summary: tungstenProposalLine(r),
    followUp: null,
    facts: { ...factsOf(r) },
  };
}

/**
 * Before each destructive step: the primary must be the same node on the same epoch. Reset
 * values come from its THL; a failover in between voids the approval (and the re-plan reads the
 * new primary's THL). Nodes the run touched are not compared: shun and offline are its own work.
 */
export function tungstenDrift(
  basis: PlanBasis,
  report: TungstenReport,
  touched: ReadonlySet<string>,
): string[] {
  const then = basis.facts as unknown as BasisFacts;
  const now = factsOf(report);
  const changes: string[] = [];
  if (then.primary !== now.primary)
    changes.push(`primary ${then.primary ?? 'none'} → ${now.primary ?? 'none'}`);
  else if (then.epoch !== null && now.epoch !== null && then.epoch !== now.epoch)
    changes.push(`primary ${now.primary} epoch ${then.epoch} → ${now.epoch} (it went online again)`);
  for (const [name, role] of Object.entries(then.roles ?? {}))
    if (
      !touched.has(name) &&
      name !== then.primary &&
      name !== now.primary &&
      (now.roles[name] ?? 'gone') !== role
    )
      changes.push(`${name}: ${role} → ${now.roles[name] ?? 'gone'}`);
  return changes;
}
