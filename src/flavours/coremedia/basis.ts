import type { PlanBasis, Runbook } from '../../runbook/types';
import type { NodeSetContext } from '../types';
import type { CoremediaReport, NodeReport } from './report';
import { replayFollowUp, type ReplayReport } from './replay-text';

/** A slave as probed: what a later probe is compared with before destructive steps run. */
export interface SlaveFacts {
  name: string;
  /** Answered and readable; false means the slave was unknown to the plan. */
  known: boolean;
  replicatorRemote: number | null;
  replicatorIdRows: number | null;
}

/** CoreMedia's part of a plan basis (PlanBasis.facts). */
export interface CoremediaFacts {
  dedicatedSequence: number | null;
  dedicatedSlave: string | null;
  inSync: string[];
  toRestore: string[];
  slaves: SlaveFacts[];
  /** For runbooks that report it: publications to replay on the Content Server, known only before the restore. */
  replay: ReplayReport | null;
}

const slaveFacts = (n: NodeReport): SlaveFacts => ({
  name: n.name,
  known: n.reachable && n.error === null,
  replicatorRemote: n.replicatorRemote,
  replicatorIdRows: n.replicatorIdRows,
});

const list = (names: string[]) => (names.length > 0 ? names.join(', ') : '—');

export function coremediaBasis(runbook: Runbook, ctx: NodeSetContext<CoremediaReport>): PlanBasis {
  const s = ctx.report;
  const facts: CoremediaFacts = structuredClone({
    dedicatedSequence: s.dedicatedSequence,
    dedicatedSlave: s.dedicatedSlave,
    inSync: s.inSync,
    toRestore: s.toRestore,
    slaves: s.nodes.filter((n) => n.role === 'slave').map(slaveFacts),
    replay: runbook.reportsReplay ? replayReport(s) : null,
  });
  return {
    flavour: 'coremedia',
    probedAt: s.probedAt,
    unknown: [...s.unknown],
    summary:
      `dedicated sequence ${s.dedicatedSequence ?? 'unknown'}, dedicated slave ${s.dedicatedSlave ?? 'none'}; ` +
      `in sync: ${list(s.inSync)}; to restore: ${list(s.toRestore)}; unknown: ${list(s.unknown)}`,
    followUp: facts.replay ? replayFollowUp(facts.replay) : null,
    facts: { ...facts },
  };
}

/** Seed 000's three cases, as the planner found them: dedicated below the highest, master ahead or unknown, slaves unknown. */
const REPLAY_CODES = new Set(['dedicated-below-highest', 'master-ahead', 'master-unknown', 'slaves-unknown']);

function replayReport(status: CoremediaReport): ReplayReport | null {
  const reasons = status.warnings.filter((w) => REPLAY_CODES.has(w.code)).map((w) => w.message);
  if (!status.replayRange && reasons.length === 0) return null;
  const from = status.replayRange?.from ?? (status.dedicatedSequence ?? 0) + 1;
  const to = status.replayRange?.to ?? from - 1;
  // Without a range the planner could not see far enough: open-ended. With one, only when it says so.
  return { from, to, openEnded: status.replayRange ? status.replayRange.openEnded === true : true, reasons };
}

function describe(f: SlaveFacts): string {
  if (!f.known) return 'unknown';
  return `sequence ${f.replicatorRemote}, ${f.replicatorIdRows} ReplicatorIdTable rows`;
}

/**
 * What changed since the plan was made, among the slaves this run has not touched: their own
 * facts (readable, sequence number, ReplicatorIdTable rows), which decide what the remaining steps
 * do. Slaves the run changed are left out, and so is the fleet-wide majority, which the run's own
 * work moves. One line per change, e.g. "rls-3: sequence 1042, 0 … → sequence 1030, 0 …".
 */
export function coremediaDrift(
  basis: PlanBasis,
  report: CoremediaReport,
  touched: ReadonlySet<string>,
): string[] {
  const before = (basis.facts as unknown as CoremediaFacts).slaves ?? [];
  const now = new Map(report.nodes.filter((n) => n.role === 'slave').map((n) => [n.name, slaveFacts(n)]));
  const changes: string[] = [];
  for (const then of before) {
    if (touched.has(then.name)) continue;
    const after = now.get(then.name);
    const was = describe(then);
    const current = after ? describe(after) : 'gone from the topology';
    if (was !== current) changes.push(`${then.name}: ${was} → ${current}`);
  }
  return changes;
}
