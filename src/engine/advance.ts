import type { PlanStep } from '../runbook/types';
import { flavourOf } from '../flavours/registry';
import { touchedNodes } from './drift';
import { DEFAULT_LIVENESS, topologyOf, type EngineDeps } from './deps';
import { finishRun, type Fence } from './finish';
import { haltOnUnknown, haltRun } from './halt';
import { requestApproval, voidForDrift } from './request-approval';
import { runStep, type StepOutcome } from './run-step';
import { skipUnmet } from './conditions';
import { TERMINAL_RUN_STATES, type RunRecord } from './types';

/** Another worker is moving the run right now: the job is tried again a little later. */
export class RunBusyError extends Error {
  readonly code = 'RUN_BUSY';
  constructor(readonly runId: string) {
    super(`run ${runId} is being moved by another live worker`);
    this.name = 'RunBusyError';
  }
}

/**
 * Move a run forward by one stage. Called by the worker for every `advance` job; safe to call
 * again at any point: one worker at a time claims the run (a live one is waited for, a dead one
 * fenced out), and every write is a compare-and-set fenced by the lease token.
 */
export async function advanceRun(deps: EngineDeps, runId: string): Promise<void> {
  const seen = await deps.ledger.getRun(runId);
  if (!seen) return;
  if (TERMINAL_RUN_STATES.includes(seen.state)) return releaseIfStillHeld(deps, seen);
  const liveness = deps.liveness ?? DEFAULT_LIVENESS;
  const claim = await deps.lease.claim(seen.topology, runId, liveness.staleAfterMs);
  if (claim.kind === 'gone') return;
  if (claim.kind === 'busy') throw new RunBusyError(runId);
  const lease = claim.lease;
  const fence: Fence = { topology: seen.topology, token: lease.token };
  // Heartbeat while this worker holds the run, so others can tell a live holder from a dead one.
  const beat = setInterval(
    () => void deps.lease.heartbeat(seen.topology, runId, lease.token).catch(() => undefined),
    liveness.heartbeatMs,
  );
  try {
    // Read again under the claim: a human may have acted while the job waited.
    const run = (await deps.ledger.getRun(runId))!;
    if (TERMINAL_RUN_STATES.includes(run.state)) return await releaseIfStillHeld(deps, run);
    await advanceHeld(deps, run, fence);
  } finally {
    clearInterval(beat);
    await deps.lease.idle(seen.topology, runId, lease.token).catch(() => undefined);
  }
}

async function advanceHeld(deps: EngineDeps, run: RunRecord, fence: Fence): Promise<void> {
  const runId = run.id;
  const plan = (await deps.ledger.getPlan(runId))!;
  const records = new Map((await deps.ledger.getSteps(runId)).map((s) => [s.stepId, s]));
  const state = (p: PlanStep) => records.get(p.id)?.state ?? 'pending';

  const orphans = plan.steps.filter((p) => state(p) === 'running');
  if (orphans.length > 0) return haltOnUnknown(deps, run, plan, orphans, fence);
  const unknown = plan.steps.filter((p) => state(p) === 'unknown');
  // Killed between marking steps unknown and halting: finish the halt.
  if (unknown.length > 0 && run.state !== 'halted') return haltOnUnknown(deps, run, plan, [], fence);
  if (run.state === 'halted' || unknown.length > 0) return;

  const next = plan.steps.find((p) => state(p) !== 'done' && state(p) !== 'skipped');
  if (!next) return finishRun(deps, run, fence, 'done', null);
  const stage = plan.steps.filter((p) => p.stage === next.stage);
  // Conditions decided by earlier captures: skipped steps are never offered for approval.
  if (stage.some((p) => p.when)) {
    const decided = await skipUnmet(deps, run, stage, records, fence);
    if ('undecidable' in decided) return finishRun(deps, run, fence, 'failed', decided.undecidable);
    if (decided.skipped.length > 0) return deps.queue.advance(runId, next.stage, 'skipped');
  }

  const gate = stage.find((p) => p.gate)?.gate ?? null;
  if (gate) {
    const approval = await deps.ledger.getApproval(runId, gate);
    if (!approval || approval.voidedAt || approval.planHash !== plan.hash)
      return requestApproval(deps, run, plan, gate, fence);
    // Re-probe just before destructive steps; only nodes this run has not touched can drift.
    const topology = topologyOf(deps, run.topology);
    const status = await deps.inspect(topology);
    const changes = flavourOf(topology.flavour).drift(plan.basis, status, touchedNodes(plan.steps, records));
    if (changes.length > 0) return voidForDrift(deps, run, plan, status, changes, gate, fence);
    // Approved while this worker was asking (the click landed before the state was written).
    await deps.ledger.setRunState(runId, 'running', fence, null, { from: ['awaiting-approval'] });
  }

  const results = await Promise.all(stage.map((p) => runStep(deps, run, p, gate, fence, records)));
  const waits = results.flatMap((r) => (r && typeof r === 'object' && 'wait' in r ? [r.wait] : []));
  if (gate && results.some((r) => r === 'reapprove' || r === 'expired')) {
    return reapprove(deps, run, plan, gate, fence, results.includes('expired'));
  }
  const failures = stage.flatMap((p, i) => {
    const r = results[i] as StepOutcome;
    return r && typeof r === 'object' && 'ok' in r && !r.ok ? [`${p.id}: ${r.error ?? 'failed'}`] : [];
  });
  if (failures.length > 0) return finishRun(deps, run, fence, 'failed', failures.join('; '));
  const now = await deps.ledger.getRun(runId);
  // Aborted while the stage ran: the abort was recorded then; this worker lets the topology go.
  if (now?.state === 'aborted') return void (await deps.lease.release(run.topology, runId, fence.token));
  if (now?.state !== 'running') return; // halted meanwhile
  // A wait that does not hold yet: this stage again, later, without holding this worker.
  if (waits.length > 0) return deps.queue.advance(runId, next.stage, 'wait', Math.min(...waits));
  await deps.queue.advance(runId, next.stage + 1, 'next');
}

/** A gate's approval could not be used (spent on an attempt that never started, or too old): ask again. */
async function reapprove(
  deps: EngineDeps,
  run: RunRecord,
  plan: Parameters<typeof requestApproval>[2],
  gate: string,
  fence: Fence,
  expired: boolean,
): Promise<void> {
  await deps.ledger.voidApproval(run.id, gate, deps.clock().toISOString());
  const ttl = topologyOf(deps, run.topology).access.approvalTtlMinutes;
  const why = expired
    ? `the approval of gate "${gate}" is older than ${ttl} min and its steps had not started: approve again`
    : `the approval of gate "${gate}" was spent on an attempt that never started: approve again`;
  await requestApproval(deps, run, plan, gate, fence, why);
}

/**
 * An ended run that still holds its topology (aborted mid-step, or its worker died just then):
 * let go once no live worker can still be executing one of its steps.
 */
export async function releaseIfStillHeld(deps: EngineDeps, run: RunRecord): Promise<void> {
  const lease = await deps.lease.current(run.topology);
  if (lease?.runId !== run.id) return;
  if (deps.lease.isLive(lease)) return;
  await deps.lease.release(run.topology, run.id, lease.token);
}

/**
 * The engine itself failed on this run every time it tried (a bug, a lasting outage): stop and
 * say so rather than leave the run waiting on nothing.
 */
export async function haltOnEngineError(deps: EngineDeps, runId: string, err: unknown): Promise<void> {
  const run = await deps.ledger.getRun(runId);
  if (!run || TERMINAL_RUN_STATES.includes(run.state) || run.state === 'halted') return;
  const claim = await deps.lease.claim(run.topology, runId, (deps.liveness ?? DEFAULT_LIVENESS).staleAfterMs);
  if (claim.kind !== 'claimed') return;
  const fence = { topology: run.topology, token: claim.lease.token };
  try {
    const message = err instanceof Error ? err.message : String(err);
    const reason = `the engine could not move this run: ${message}. Check, then decide retry or abort`;
    await haltRun(deps, run, fence, reason, null, { error: message });
  } finally {
    await deps.lease.idle(run.topology, runId, claim.lease.token).catch(() => undefined);
  }
}
