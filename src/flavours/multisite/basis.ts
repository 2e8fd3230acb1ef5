import type { PlanBasis, Runbook } from '../../runbook/types';
import type { NodeSetContext } from '../types';
import { proposalFor } from './node-sets';
import type { LossWindow, MultisiteReport } from './report';
import { lossText, msProposalLine } from './status-text';

interface ReplicaFact {
  name: string;
  known: boolean;
  restoring: boolean | null;
}

const factsOf = (r: MultisiteReport): ReplicaFact[] =>
  r.nodes.map((n) => ({
    name: n.name,
    known: n.reachable && n.databaseError === null,
    restoring: n.restoring,
  }));

export function msBasis(runbook: Runbook, ctx: NodeSetContext<MultisiteReport>): PlanBasis {
  const r = ctx.report;
  const p = proposalFor(ctx);
  const R = ctx.target ?? p.restore;
  return {
    flavour: 'multisite',
    probedAt: r.probedAt,
    unknown: [...r.unknown],
    summary: msProposalLine({ ...r, proposal: p }),
    followUp: R && runbook.name === 'multisite-restore' ? followUpText(R, p.lossWindow) : null,
    facts: { replica: R, evidence: p.evidence, lossWindow: p.lossWindow, replicas: factsOf(r) },
  };
}

/** The run's last word: what came back per sibling and what is lost (the window after the last export). */
function followUpText(R: string, w: LossWindow | null): string {
  return `Restoration of ${R}: ${lossText(R, w)}. Development work at ${R} can resume once it is unlocked.`;
}

const describe = (f: ReplicaFact) => (!f.known ? 'unknown' : f.restoring ? 'in restoration' : 'answers');

/** Siblings the run has not touched: one that went dark or started its own restoration. */
export function msDrift(basis: PlanBasis, report: MultisiteReport, touched: ReadonlySet<string>): string[] {
  const before = ((basis.facts as { replicas?: ReplicaFact[] }).replicas ?? []).filter(
    (f) => !touched.has(f.name),
  );
  const now = new Map(factsOf(report).map((f) => [f.name, f]));
  return before.flatMap((then) => {
    const after = now.get(then.name);
    const was = describe(then);
    const is = after ? describe(after) : 'gone from the topology';
    return was === is ? [] : [`${then.name}: ${was} → ${is}`];
  });
}
