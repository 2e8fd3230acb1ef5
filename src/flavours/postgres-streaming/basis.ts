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
    facts: { candidate: r.proposal.candidate, nodes: factsOf(r), switchover: switchoverFact(runbook, ctx) },
  };
}

/** A switchover target that streamed at plan time must still stream when the primary is about to stop. */
interface SwitchoverFact {
  target: string;
  from: string;
}

function switchoverFact(runbook: Runbook, ctx: NodeSetContext<PostgresReport>): SwitchoverFact | null {
  const primary = ctx.report.nodes.find((n) => n.role === 'primary');
  const target = ctx.report.nodes.find((n) => n.name === ctx.target);
  if (runbook.name !== 'postgres-switchover' || !primary || target?.streaming !== true) return null;
  return { target: target.name, from: primary.name };
}

/**
 * Until the acting primary is stopped, its switchover target must keep streaming: else stopping
 * it could only end in "zero loss could not be proven" with the primary down. The re-plan that
 * drift triggers then refuses, before anything is stopped.
 */
function switchoverDrift(basis: PlanBasis, report: PostgresReport, touched: ReadonlySet<string>): string[] {
  const fact = (basis.facts as { switchover?: SwitchoverFact | null }).switchover;
  if (!fact || touched.has(fact.from)) return [];
  const now = report.nodes.find((n) => n.name === fact.target);
  return now?.streaming === true
    ? []
    : [`${fact.target}: streaming from ${fact.from} → not streaming (zero loss could not be proven)`];
}

// "Ahead of the candidate" is not compared: it is relative to the candidate, which the run itself
// promotes (after that no node is ahead of a candidate). Positions move by themselves.
const describe = (f: NodeFact) => (f.known ? `${f.role} on timeline ${f.timeline ?? '?'}` : 'unknown');

/** Role and timeline of the nodes the run has not touched: a standby that became a primary, or went dark. */
export function pgDrift(basis: PlanBasis, report: PostgresReport, touched: ReadonlySet<string>): string[] {
  const before = ((basis.facts as { nodes?: NodeFact[] }).nodes ?? []).filter((f) => !touched.has(f.name));
  const now = new Map(factsOf(report).map((f) => [f.name, f]));
  const changes = before.flatMap((then) => {
    const after = now.get(then.name);
    const was = describe(then);
    const is = after ? describe(after) : 'gone from the topology';
    return was === is ? [] : [`${then.name}: ${was} → ${is}`];
  });
  return [...changes, ...switchoverDrift(basis, report, touched)];
}
