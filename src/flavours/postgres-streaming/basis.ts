import type { PlanBasis, Runbook } from '../../runbook/types';
import type { NodeSetContext } from '../types';
import type { PostgresReport } from './report';
import { pgProposalLine } from './status-text';

interface NodeFact {
  name: string;
  known: boolean;
  role: string;
  timeline: number | null;
  /** Past the candidate's position: rewinding it discards WAL (the wrong-candidate evidence). */
  ahead: boolean;
}

const factsOf = (r: PostgresReport): NodeFact[] => {
  const ahead = new Set(r.proposal.aheadOfCandidate.map((a) => a.node));
  return r.nodes.map((n) => ({
    name: n.name,
    known: n.reachable && n.error === null,
    role: n.role,
    timeline: n.timeline,
    ahead: ahead.has(n.name),
  }));
};

export function pgBasis(runbook: Runbook, ctx: NodeSetContext<PostgresReport>): PlanBasis {
  const r = ctx.report;
  return {
    flavour: 'postgres-streaming',
    probedAt: r.probedAt,
    unknown: [...r.unknown],
    summary: pgProposalLine(r),
    followUp:
      runbook.name === 'postgres-failover' && r.proposal.formerPrimary
        ? `Rejoin ${r.proposal.formerPrimary} as a standby of the new primary only by rebuilding it: recover plan ${r.topology} postgres-rebuild-standby --target ${r.proposal.formerPrimary}. Never start it as it is.`
        : null,
    facts: { candidate: r.proposal.candidate, nodes: factsOf(r) },
  };
}

// "Ahead of the candidate" is not compared: it is relative to the candidate, which the run itself
// promotes (after that no node is ahead of a candidate). Positions move by themselves.
const describe = (f: NodeFact) => (f.known ? `${f.role} on timeline ${f.timeline ?? '?'}` : 'unknown');

/** Role and timeline of the nodes the run has not touched: a standby that became a primary, or went dark. */
export function pgDrift(basis: PlanBasis, report: PostgresReport, touched: ReadonlySet<string>): string[] {
  const before = ((basis.facts as { nodes?: NodeFact[] }).nodes ?? []).filter((f) => !touched.has(f.name));
  const now = new Map(factsOf(report).map((f) => [f.name, f]));
  return before.flatMap((then) => {
    const after = now.get(then.name);
    const was = describe(then);
    const is = after ? describe(after) : 'gone from the topology';
    return was === is ? [] : [`${then.name}: ${was} → ${is}`];
  });
}
