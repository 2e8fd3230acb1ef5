import type { PlanStep } from '../../runbook/types';
import type { MultisiteReport } from './report';

/**
 * After a worker died inside `restorereplica`, the replica's own lsreplica says whether it ran:
 * locked and in restoration means it did (a second one is refused, "already in restoration"),
 * so the step is marked done; not in restoration means it did not, so retrying is safe (the
 * step re-checks the immediacy rule on the host). Never re-run blindly (SYSTEMS 1.5).
 */
export function msUnknownOutcome(step: PlanStep, report: MultisiteReport): string | null {
  if (step.templateId !== 'restorereplica') return null;
  const n = report.nodes.find((x) => x.name === step.node);
  if (!n?.reachable || n.restoring === null)
    return `${step.node} cannot be read now (${n?.error ?? n?.databaseError ?? 'not probed'}): whether restorereplica ran is unknown; look at lsreplica -long there before deciding`;
  if (n.restoring)
    return `${step.node} is locked and in restoration${n.awaiting?.length ? ` (owed by ${n.awaiting.join(', ')})` : ''}: restorereplica ran, so mark it done (a retry would be refused: already in restoration)`;
  return `${step.node} is not in restoration: restorereplica did not run, so retry is safe (it checks again that ${step.node} did not change since its restore)`;
}
