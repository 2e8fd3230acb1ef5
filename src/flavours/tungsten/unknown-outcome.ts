import type { PlanStep } from '../../runbook/types';
import type { TungstenNodeStatus, TungstenReport } from './report';

const trepText = (n: TungstenNodeStatus): string => {
  if (!n.trep) return `its trep_commit_seqno cannot be read (${n.trepError ?? 'no answer'})`;
  const row = n.trep[0];
  if (!row) return 'its trep_commit_seqno table is empty';
  return `its trep_commit_seqno reads seqno ${row.seqno ?? '?'}, epoch ${row.epoch ?? '?'}, event ${row.eventId ?? '?'}, source ${row.sourceId ?? '?'}`;
};

/**
 * After a worker died inside one of the external restore's destructive steps, what the target
 * shows now and which choice is safe. Each of them can run again without harm while the
 * replicator is offline and the datasource shunned (nothing replicates into the host meanwhile).
 */
export function tungstenUnknownOutcome(step: PlanStep, report: TungstenReport): string | null {
  const n = report.nodes.find((x) => x.name === step.node);
  if (!n) return null;
  const replicator = n.replicator?.state ?? `unknown (${n.replicatorError ?? 'no answer'})`;
  switch (step.templateId) {
    case 'purge-thl':
      return `${n.name}'s replicator is ${replicator}; purging its THL again is safe while it is OFFLINE:NORMAL, so retry`;
    case 'restore':
      return `${n.name}'s replicator is ${replicator}; a restore cut short leaves partial data, so retry (it restores again from the start), never mark it done`;
    case 'dsctl-reset':
      return `${n.name}: ${trepText(n)}; replicator ${replicator}. dsctl set -reset replaces that row with the same values each time, so retry is safe; mark it done only if the row already equals the reset values in this thread`;
    default:
      return null;
  }
}
