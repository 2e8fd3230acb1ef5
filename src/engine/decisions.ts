import { decideApproval, isApprover } from './approval-policy';
import { auditEvent, EngineError, record, topologyOf, type EngineDeps } from './deps';
import { finishRun, type Fence } from './finish';
import { LedgerError } from './ledger';
import { TERMINAL_RUN_STATES, type Actor, type RunRecord } from './types';

/** A human acts on a run on behalf of the lease holder: no takeover, so a running step's result still lands. */
async function activeRun(deps: EngineDeps, runId: string): Promise<{ run: RunRecord; fence: Fence }> {
  const run = await deps.ledger.getRun(runId);
  if (!run) throw new EngineError('unknown-run', `no run "${runId}"`);
  if (TERMINAL_RUN_STATES.includes(run.state))
    throw new EngineError('run-ended', `run ${runId} has already ended (${run.state})`);
  const lease = await deps.lease.current(run.topology);
  if (!lease || lease.runId !== runId)
    throw new EngineError('run-ended', `run ${runId} no longer holds ${run.topology}`);
  return { run, fence: { topology: run.topology, token: lease.token } };
}

export interface ApproveRequest {
  runId: string;
  /** A gate id or a step id of the gate; omitted: the gate now waiting. */
  gate?: string;
  approver: Actor;
  /** The plan the approver looked at; omitted: the current one. */
  planHash?: string;
}

export async function approve(
  deps: EngineDeps,
  req: ApproveRequest,
): Promise<{ counted: boolean; gate: string }> {
  const { run, fence } = await activeRun(deps, req.runId);
  const plan = (await deps.ledger.getPlan(run.id))!;
  const steps = await deps.ledger.getSteps(run.id);
  const gate = gateOf(plan.steps, steps, req.gate);
  const gateIds = new Set(plan.steps.filter((p) => p.gate === gate).map((p) => p.id));
  const topology = topologyOf(deps, run.topology);
  const existing = await deps.ledger.getApproval(run.id, gate);
  const presented = req.planHash ?? plan.hash;
  const decision = decideApproval({
    run,
    gate,
    // A gate resumed after a re-plan waits only for its steps that have not run yet.
    gateSteps: steps.filter((s) => gateIds.has(s.stepId) && s.state !== 'done' && s.state !== 'skipped'),
    approver: req.approver,
    presentedPlanHash: presented,
    currentPlanHash: plan.hash,
    access: topology.access,
    groups: await deps.groups(topology.access),
    now: deps.clock(),
    existing: existing && !existing.voidedAt ? existing : null,
  });
  if (!decision.ok) {
    if (decision.code === 'already-approved') return { counted: false, gate };
    if (decision.code === 'expired')
      await renewRequest(deps, run, fence, gateIds, stepsStage(plan.steps, gate));
    await record(deps, {
      runId: run.id,
      kind: 'approval-refused',
      actor: req.approver.id,
      stepId: null,
      summary: `approval by ${req.approver.id} refused: ${decision.message}`,
      detail: { code: decision.code, gate },
    });
    throw new EngineError('approval-refused', decision.message);
  }
  const at = deps.clock().toISOString();
  // The approval, the run running again and the audit event land together.
  const stored = await deps.ledger.recordApproval(
    run.id,
    { gate, planHash: presented, approver: req.approver.id, at, voidedAt: null, consumedAt: null },
    fence,
    auditEvent(deps, {
      runId: run.id,
      kind: 'approval',
      actor: req.approver.id,
      stepId: null,
      summary: `${req.approver.id} approved gate "${gate}" of plan ${presented.slice(0, 12)}`,
      detail: { gate, planHash: presented },
    }),
  );
  if (!stored.recorded) return { counted: false, gate };
  await deps.notifier.notify({
    type: 'approval-decided',
    run,
    gate,
    decision: 'approved',
    by: req.approver.id,
  });
  const stage = plan.steps.find((p) => p.gate === gate)!.stage;
  await deps.queue.advance(run.id, stage, `approved-${gate}-${presented.slice(0, 12)}`);
  return { counted: true, gate };
}

/** Reject aborts the run. Anyone who could approve may reject, and so may the requester. */
export async function reject(
  deps: EngineDeps,
  runId: string,
  actor: Actor,
  gateOrStep?: string,
): Promise<void> {
  const { run, fence } = await activeRun(deps, runId);
  await assertMayAct(deps, run, actor);
  const plan = (await deps.ledger.getPlan(run.id))!;
  const gate = gateOf(plan.steps, await deps.ledger.getSteps(run.id), gateOrStep);
  await record(deps, {
    runId: run.id,
    kind: 'rejection',
    actor: actor.id,
    stepId: null,
    summary: `${actor.id} rejected gate "${gate}"`,
    detail: { gate },
  });
  await deps.notifier.notify({ type: 'approval-decided', run, gate, decision: 'rejected', by: actor.id });
  await finishRun(deps, run, fence, 'aborted', `rejected by ${actor.id}`);
}

/**
 * Abort frees the topology at once unless a live worker is still executing a step: then the
 * step finishes and is recorded, and that worker lets go. A step left `running` by a dead worker
 * is recorded as unknown.
 */
export async function abort(deps: EngineDeps, runId: string, actor: Actor): Promise<void> {
  const { run, fence } = await activeRun(deps, runId);
  await assertMayAct(deps, run, actor);
  const steps = await deps.ledger.getSteps(run.id);
  const running = steps.filter((s) => s.state === 'running');
  const lease = await deps.lease.current(run.topology);
  const live = lease ? deps.lease.isLive(lease) : false;
  if (running.length === 0 || !live) {
    for (const s of running)
      await deps.ledger.transitionStep(run.id, s.stepId, ['running'], 'unknown', {}, fence);
    return finishRun(deps, run, fence, 'aborted', `aborted by ${actor.id}`);
  }
  await deps.ledger.setRunState(run.id, 'aborted', fence, `aborted by ${actor.id}`, {
    events: auditEvent(deps, {
      runId: run.id,
      kind: 'abort',
      actor: actor.id,
      stepId: null,
      summary: `${actor.id} aborted the run; the step still running finishes and is recorded`,
    }),
  });
  await deps.notifier.notify({
    type: 'run-finished',
    run: { ...run, state: 'aborted', reason: `aborted by ${actor.id}` },
  });
}

export type Decision = 'retry' | 'mark-done' | 'abort';

/**
 * The human choice for a step whose outcome is unknown after a worker died. Each unknown step
 * is decided on its own; the run stays halted until the last one is. On a run halted with no
 * unknown step (the engine could not go on), retry resumes it.
 */
export async function decide(
  deps: EngineDeps,
  runId: string,
  stepId: string,
  choice: Decision,
  actor: Actor,
): Promise<void> {
  const { run, fence } = await activeRun(deps, runId);
  await assertMayAct(deps, run, actor);
  if (run.state !== 'halted')
    throw new EngineError('not-halted', `run ${runId} is ${run.state}, not halted: nothing to decide`);
  if (choice === 'abort') return abort(deps, runId, actor);
  const plan = (await deps.ledger.getPlan(run.id))!;
  const step = plan.steps.find((p) => p.id === stepId);
  const steps = await deps.ledger.getSteps(run.id);
  const current = steps.find((s) => s.stepId === stepId);
  if (!step || !current) throw new EngineError('no-such-gate', `run ${runId} has no step ${stepId}`);
  const event = auditEvent(deps, {
    runId: run.id,
    kind: 'decision',
    actor: actor.id,
    stepId,
    summary: `${actor.id} chose ${choice} for ${stepId}`,
    detail: { choice },
  });
  if (!steps.some((s) => s.state === 'unknown')) {
    if (choice !== 'retry')
      throw new EngineError('no-such-gate', `no step of run ${runId} is in an unknown state: retry or abort`);
    const resumed = await deps.ledger.setRunState(run.id, 'running', fence, null, {
      from: ['halted'],
      events: event,
    });
    if (resumed) await deps.queue.advance(run.id, step.stage, 'resume');
    return;
  }
  if (current.state !== 'unknown')
    throw new EngineError('no-such-gate', `step ${stepId} of run ${runId} is not in an unknown state`);
  const at = deps.clock().toISOString();
  // A retry of a destructive step needs a fresh approval: the old one was spent on the lost attempt.
  if (choice === 'retry' && step.gate) await deps.ledger.voidApproval(run.id, step.gate, at);
  const patch =
    choice === 'mark-done'
      ? {
          finishedAt: at,
          result: current.result ? { ...current.result, note: `marked done by ${actor.id}` } : null,
        }
      : {};
  let left: string[];
  try {
    left = await deps.ledger.decideStep(
      run.id,
      stepId,
      choice === 'mark-done' ? 'done' : 'pending',
      patch,
      fence,
      `still unknown: %s. Check, then decide retry, mark-done or abort for each`,
      event,
    );
  } catch (err) {
    if (err instanceof LedgerError && (err.code === 'NOT_HALTED' || err.code === 'STEP_NOT_UNKNOWN'))
      throw new EngineError('no-such-gate', `${err.message}: decided already?`);
    throw err;
  }
  if (left.length === 0) await deps.queue.advance(run.id, step.stage, `decision-${choice}`);
}

/** An approval request that waited past its TTL is asked again, with the plan as it is now. */
async function renewRequest(
  deps: EngineDeps,
  run: RunRecord,
  fence: Fence,
  gateIds: Set<string>,
  stage: number,
): Promise<void> {
  for (const id of gateIds)
    await deps.ledger.transitionStep(run.id, id, ['awaiting-approval'], 'pending', {}, fence);
  await deps.ledger.setRunState(run.id, 'running', fence, null, { from: ['awaiting-approval'] });
  await deps.queue.advance(run.id, stage, 'renew');
}

function stepsStage(planSteps: { gate: string | null; stage: number }[], gate: string): number {
  return planSteps.find((p) => p.gate === gate)!.stage;
}

async function assertMayAct(deps: EngineDeps, run: RunRecord, actor: Actor): Promise<void> {
  const topology = topologyOf(deps, run.topology);
  const groups = await deps.groups(topology.access);
  const members = (group: string) => groups[group] ?? [];
  if (actor.id === run.requester || isApprover(actor, topology.access, members)) return;
  throw new EngineError(
    'not-allowed',
    `${actor.id} is neither the requester of ${run.id} nor an approver of ${run.topology}`,
  );
}

function gateOf(
  planSteps: { id: string; gate: string | null }[],
  steps: { stepId: string; state: string }[],
  given?: string,
): string {
  if (given) {
    const byStep = planSteps.find((p) => p.id === given)?.gate;
    const gate = byStep ?? (planSteps.some((p) => p.gate === given) ? given : null);
    if (!gate)
      throw new EngineError(
        'no-such-gate',
        `"${given}" is neither an approval gate nor a gated step of this run`,
      );
    return gate;
  }
  const waiting = steps.find((s) => s.state === 'awaiting-approval');
  const gate = waiting ? planSteps.find((p) => p.id === waiting.stepId)?.gate : null;
  if (!gate) throw new EngineError('no-such-gate', 'nothing in this run is waiting for approval');
  return gate;
}
