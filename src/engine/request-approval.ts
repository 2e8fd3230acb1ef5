import { resolvePlan } from '../runbook/resolve';
import type { Plan } from '../runbook/types';
import type { StatusReport } from '../status/inspect';
import { auditEvent, record, topologyOf, type EngineDeps } from './deps';
import type { Fence } from './finish';
import { haltRun } from './halt';
import type { RunRecord } from './types';

/**
 * Put a gate's steps up for approval and tell humans. Safe to repeat: steps already waiting
 * keep their awaitingSince (the expiry does not restart), and nothing is posted again unless
 * something changed. `renewal` (why a fresh approval is needed) restarts the wait.
 */
export async function requestApproval(
  deps: EngineDeps,
  run: RunRecord,
  plan: Plan,
  gate: string,
  fence: Fence,
  renewal?: string,
): Promise<void> {
  const now = deps.clock().toISOString();
  const gateSteps = plan.steps.filter((p) => p.gate === gate);
  const steps = new Map((await deps.ledger.getSteps(run.id)).map((s) => [s.stepId, s.state]));
  const moved: string[] = [];
  for (const p of gateSteps) {
    const from = renewal ? (['pending', 'awaiting-approval'] as const) : (['pending'] as const);
    const to = await deps.ledger.transitionStep(
      run.id,
      p.id,
      [...from],
      'awaiting-approval',
      { awaitingSince: now },
      fence,
    );
    if (to) moved.push(p.id);
  }
  const waiting = gateSteps
    .map((p) => p.id)
    .filter((id) => moved.includes(id) || steps.get(id) === 'awaiting-approval');
  const summary = `waiting for a second person to approve gate "${gate}" (${waiting.join(', ')}) of plan ${plan.hash.slice(0, 12)}${renewal ? `: ${renewal}` : ''}`;
  const event = auditEvent(deps, {
    runId: run.id,
    kind: 'awaiting-approval',
    actor: null,
    stepId: waiting[0] ?? null,
    summary,
    detail: { gate, steps: waiting, planHash: plan.hash },
  });
  const changed = await deps.ledger.setRunState(run.id, 'awaiting-approval', fence, null, {
    from: ['running'],
    events: event,
  });
  if (!changed && moved.length === 0) return; // asked already: one prompt per request
  if (!changed) await deps.audit.append(event); // a renewal while the run was waiting already
  await deps.notifier.notify({
    type: 'awaiting-approval',
    run: { ...run, state: 'awaiting-approval' },
    gate,
    stepIds: waiting,
    planHash: plan.hash,
  });
}

export async function voidForDrift(
  deps: EngineDeps,
  run: RunRecord,
  old: Plan,
  status: StatusReport,
  changes: string[],
  gate: string,
  fence: Fence,
): Promise<void> {
  const now = deps.clock().toISOString();
  await deps.ledger.voidApproval(run.id, gate, now);
  const what = `live state changed since plan ${old.hash.slice(0, 12)} (${changes.join('; ')})`;
  const voided = (reason: string) =>
    deps.notifier.notify({ type: 'approval-decided', run, gate, decision: 'void', by: 'recover', reason });
  let fresh: Plan;
  try {
    const runbook = deps.runbook(run.runbook);
    if (!runbook) throw new Error(`runbook ${run.runbook} is not known to this worker`);
    fresh = resolvePlan(runbook, topologyOf(deps, run.topology), status, run.target);
  } catch (err) {
    // No plan fits the fleet as it is now: stop here and let a human look.
    const reason = `${what}, and no new plan can be made: ${(err as Error).message}. Decide abort or retry`;
    await voided(reason);
    const first = old.steps.find((p) => p.gate === gate)!;
    return haltRun(deps, run, fence, reason, first.id, { changes }, 'approval-void');
  }
  await deps.ledger.replacePlan(run.id, fresh, fence);
  const reason = `${what}: the approval is void; new plan ${fresh.hash.slice(0, 12)} needs a fresh approval`;
  await record(deps, {
    runId: run.id,
    kind: 'approval-void',
    actor: null,
    stepId: null,
    summary: reason,
    detail: { oldPlanHash: old.hash, newPlanHash: fresh.hash, changes },
  });
  await voided(reason);
  await deps.notifier.notify({ type: 'run-started', run: { ...run, planHash: fresh.hash }, plan: fresh });
  // Steps already done keep their records; the approval asked for is the first gate with work left.
  const after = new Map((await deps.ledger.getSteps(run.id)).map((r) => [r.stepId, r.state]));
  const nextGate = fresh.steps.find(
    (p) => p.gate && after.get(p.id) !== 'done' && after.get(p.id) !== 'skipped',
  )?.gate;
  if (!nextGate) return deps.queue.advance(run.id, 0, `replanned-${fresh.hash.slice(0, 12)}`);
  await requestApproval(deps, { ...run, planHash: fresh.hash }, fresh, nextGate, fence, 'the plan changed');
}
