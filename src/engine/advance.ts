import { resolvePlan } from '../runbook/resolve';
import type { StatusReport } from '../status/inspect';
import { factsDrift, touchedNodes } from './drift';
import type { Plan, PlanStep, StepResult } from '../runbook/types';
import { record, topologyOf, type EngineDeps } from './deps';
import { execute } from './executors';
import { finishRun, type Fence } from './finish';
import { TERMINAL_RUN_STATES, type RunRecord, type StepRecord } from './types';

const READ_RETRIES = 3;

/**
 * Move a run forward by one stage. Called by the worker for every `advance` job; safe to call
 * again at any point: every write is a compare-and-set fenced by the run's lease token.
 */
export async function advanceRun(deps: EngineDeps, runId: string): Promise<void> {
  const run = await deps.ledger.getRun(runId);
  if (!run) return;
  if (TERMINAL_RUN_STATES.includes(run.state)) return releaseIfStillHeld(deps, run);
  // Taking over bumps the fencing token: a worker that died and comes back cannot write any more.
  const lease = await deps.lease.takeOver(run.topology, runId);
  if (!lease) return;
  const fence: Fence = { topology: run.topology, token: lease.token };
  // Heartbeat while this worker holds the run, so `runs` can tell a live holder from a dead one.
  const beat = setInterval(
    () => void deps.lease.heartbeat(run.topology, runId, lease.token).catch(() => undefined),
    5_000,
  );
  try {
    await advanceHeld(deps, run, fence);
  } finally {
    clearInterval(beat);
  }
}

async function advanceHeld(deps: EngineDeps, run: RunRecord, fence: Fence): Promise<void> {
  const runId = run.id;
  const plan = (await deps.ledger.getPlan(runId))!;
  const records = new Map((await deps.ledger.getSteps(runId)).map((s) => [s.stepId, s]));
  const state = (p: PlanStep) => records.get(p.id)?.state ?? 'pending';

  const orphans = plan.steps.filter((p) => state(p) === 'running');
  if (orphans.length > 0) return haltOnUnknown(deps, run, orphans, fence);
  if (run.state === 'halted' || plan.steps.some((p) => state(p) === 'unknown')) return;

  const next = plan.steps.find((p) => state(p) !== 'done' && state(p) !== 'skipped');
  if (!next) return finishRun(deps, run, fence, 'done', null);
  const stage = plan.steps.filter((p) => p.stage === next.stage);

  const gate = stage.find((p) => p.gate)?.gate ?? null;
  if (gate) {
    const approval = await deps.ledger.getApproval(runId, gate);
    if (!approval || approval.voidedAt || approval.planHash !== plan.hash)
      return requestApproval(deps, run, plan, gate, fence);
    // Re-probe just before destructive steps; only slaves this run has not touched can drift.
    const topology = topologyOf(deps, run.topology);
    const status = await deps.inspect(topology);
    const changes = factsDrift(plan.basis, status.nodes, touchedNodes(plan.steps, records));
    if (changes.length > 0) return voidForDrift(deps, run, plan, status, changes, gate, fence);
  }

  const results = await Promise.all(stage.map((p) => runStep(deps, run, p, gate, fence, records)));
  if (gate && results.includes('reapprove')) {
    await deps.ledger.voidApproval(runId, gate, deps.clock().toISOString());
    return requestApproval(deps, run, plan, gate, fence);
  }
  const failures = stage.flatMap((p, i) => {
    const r = results[i];
    return r && r !== 'reapprove' && !r.ok ? [`${p.id}: ${r.error ?? 'failed'}`] : [];
  });
  if (failures.length > 0) return finishRun(deps, run, fence, 'failed', failures.join('; '));
  const now = await deps.ledger.getRun(runId);
  if (now?.state === 'aborted') return releaseIfStillHeld(deps, now); // aborted while the stage ran
  if (now?.state !== 'running') return; // halted meanwhile
  await deps.queue.advance(runId, next.stage + 1, 'next');
}

/** An ended run that still holds its topology (aborted mid-step, or its worker died just then): let go. */
async function releaseIfStillHeld(deps: EngineDeps, run: RunRecord): Promise<void> {
  const lease = await deps.lease.current(run.topology);
  if (lease?.runId === run.id) await deps.lease.release(run.topology, run.id, lease.token);
}

async function runStep(
  deps: EngineDeps,
  run: RunRecord,
  step: PlanStep,
  gate: string | null,
  fence: Fence,
  records: Map<string, StepRecord>,
): Promise<StepResult | null | 'reapprove'> {
  if (step.risk === 'destructive' && gate) {
    // One approval, one execution per step: consumed atomically before the step may start. A
    // consumption that fails (used already by an attempt that never started, or no longer valid)
    // means nothing ran: ask for a fresh approval rather than guess.
    const consumed = await deps.ledger
      .consumeApproval(run.id, gate, step.id, deps.clock().toISOString())
      .catch(() => false);
    if (!consumed) return 'reapprove';
  }
  const started = await deps.ledger.transitionStep(
    run.id,
    step.id,
    ['pending', 'awaiting-approval'],
    'running',
    { startedAt: deps.clock().toISOString() },
    fence,
  );
  if (!started) return null; // already taken by another attempt: never run a step twice
  await record(deps, {
    runId: run.id,
    kind: 'step-start',
    actor: null,
    stepId: step.id,
    summary: `${step.title} on ${step.node}`,
    detail: { action: step.action, risk: step.risk },
  });
  await deps.notifier.notify({ type: 'step-started', run, stepId: step.id });

  const topology = topologyOf(deps, run.topology);
  const ctx = {
    topology,
    db: (node: string) =>
      deps.dbs.get(
        topology.nodes.find((n) => n.name === node)!,
        topology.name,
      ),
    captured: (planStepId: string, name: string) => records.get(planStepId)?.result?.captured[name],
  };
  let result = await execute(deps.executors, step, ctx);
  // Reads cannot make anything worse: retry them with backoff. Nothing else is retried unasked.
  for (let attempt = 1; !result.ok && step.risk === 'read' && attempt < READ_RETRIES; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    result = await execute(deps.executors, step, ctx);
  }
  const finishedAt = deps.clock().toISOString();
  await deps.ledger.transitionStep(
    run.id,
    step.id,
    ['running'],
    result.ok ? 'done' : 'failed',
    { result, finishedAt },
    fence,
  );
  await record(deps, {
    runId: run.id,
    kind: 'step-result',
    actor: null,
    stepId: step.id,
    summary: resultSummary(step, result),
    detail: {
      ok: result.ok,
      affectedRows: result.affectedRows,
      rowCount: result.rowCount,
      durationMs: result.durationMs,
      error: result.error,
      captured: result.captured,
    },
  });
  await deps.notifier.notify({ type: 'step-result', run, stepId: step.id, result });
  return result;
}

async function requestApproval(
  deps: EngineDeps,
  run: RunRecord,
  plan: Plan,
  gate: string,
  fence: Fence,
): Promise<void> {
  const now = deps.clock().toISOString();
  const gateSteps = plan.steps.filter((p) => p.gate === gate);
  const waiting: string[] = [];
  for (const p of gateSteps) {
    const moved = await deps.ledger.transitionStep(
      run.id,
      p.id,
      ['pending', 'awaiting-approval'],
      'awaiting-approval',
      { awaitingSince: now },
      fence,
    );
    if (moved) waiting.push(p.id);
  }
  await deps.ledger.setRunState(run.id, 'awaiting-approval', fence, null);
  await record(deps, {
    runId: run.id,
    kind: 'awaiting-approval',
    actor: null,
    stepId: waiting[0] ?? null,
    summary: `waiting for a second person to approve gate "${gate}" (${waiting.join(', ')}) of plan ${plan.hash.slice(0, 12)}`,
    detail: { gate, steps: waiting, planHash: plan.hash },
  });
  await deps.notifier.notify({
    type: 'awaiting-approval',
    run: { ...run, state: 'awaiting-approval' },
    gate,
    stepIds: waiting,
    planHash: plan.hash,
  });
}

async function voidForDrift(
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
  let fresh: Plan;
  try {
    const runbook = deps.runbook(run.runbook);
    if (!runbook) throw new Error(`runbook ${run.runbook} is not known to this worker`);
    fresh = resolvePlan(runbook, topologyOf(deps, run.topology), status, run.target);
  } catch (err) {
    // No plan fits the fleet as it is now: stop here and let a human look.
    const reason = `${what}, and no new plan can be made: ${(err as Error).message}. Decide abort or retry`;
    await deps.ledger.setRunState(run.id, 'halted', fence, reason);
    await record(deps, {
      runId: run.id,
      kind: 'approval-void',
      actor: null,
      stepId: null,
      summary: reason,
      detail: { changes },
    });
    await deps.notifier.notify({
      type: 'approval-decided',
      run,
      gate,
      decision: 'void',
      by: 'recover',
      reason,
    });
    const first = old.steps.find((p) => p.gate === gate)!;
    return deps.notifier.notify({
      type: 'run-halted',
      run: { ...run, state: 'halted', reason },
      stepId: first.id,
      reason,
    });
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
  await deps.notifier.notify({
    type: 'approval-decided',
    run,
    gate,
    decision: 'void',
    by: 'recover',
    reason,
  });
  await deps.notifier.notify({ type: 'run-started', run: { ...run, planHash: fresh.hash }, plan: fresh });
  // Steps already done keep their records; the approval asked for is the first gate with work left.
  const after = new Map((await deps.ledger.getSteps(run.id)).map((r) => [r.stepId, r.state]));
  const nextGate = fresh.steps.find(
    (p) => p.gate && after.get(p.id) !== 'done' && after.get(p.id) !== 'skipped',
  )?.gate;
  if (!nextGate) return deps.queue.advance(run.id, 0, `replanned-${fresh.hash.slice(0, 12)}`);
  await requestApproval(deps, { ...run, planHash: fresh.hash }, fresh, nextGate, fence);
}

async function haltOnUnknown(
  deps: EngineDeps,
  run: RunRecord,
  orphans: PlanStep[],
  fence: Fence,
): Promise<void> {
  const reads = orphans.filter((p) => p.risk === 'read');
  const others = orphans.filter((p) => p.risk !== 'read');
  for (const p of reads) await deps.ledger.transitionStep(run.id, p.id, ['running'], 'pending', {}, fence);
  if (others.length === 0) {
    const attempts = Math.max(
      ...(await deps.ledger.getSteps(run.id))
        .filter((r) => reads.some((p) => p.id === r.stepId))
        .map((r) => r.attempts),
    );
    return deps.queue.advance(run.id, orphans[0]!.stage, `reread-a${attempts}`);
  }
  for (const p of others) await deps.ledger.transitionStep(run.id, p.id, ['running'], 'unknown', {}, fence);
  const names = others.map((p) => p.id).join(', ');
  const reason = `${names} was running when its worker stopped: outcome unknown. Check the node, then decide retry, mark-done or abort`;
  await deps.ledger.setRunState(run.id, 'halted', fence, reason);
  const status = await deps.inspect(topologyOf(deps, run.topology)).catch(() => null);
  await record(deps, {
    runId: run.id,
    kind: 'halt',
    actor: null,
    stepId: others[0]!.id,
    summary: reason,
    detail: {
      probe:
        status?.nodes.map((n) => ({
          name: n.name,
          reachable: n.reachable,
          error: n.error,
          replicatorRemote: n.replicatorRemote,
        })) ?? null,
    },
  });
  await deps.notifier.notify({
    type: 'run-halted',
    run: { ...run, state: 'halted', reason },
    stepId: others[0]!.id,
    reason,
  });
}

function resultSummary(step: PlanStep, r: StepResult): string {
  const parts = [r.ok ? 'ok' : `FAILED: ${r.error ?? 'check failed'}`];
  if (r.affectedRows !== null) parts.push(`${r.affectedRows} rows affected`);
  if (r.rowCount > 0) parts.push(`${r.rowCount} rows`);
  if (r.exitCode !== null) parts.push(`exit ${r.exitCode}`);
  const captured = Object.entries(r.captured).map(([k, v]) => `${k}=${v}`);
  if (captured.length > 0) parts.push(`captured ${captured.join(' ')}`);
  parts.push(`${Math.round(r.durationMs)} ms`);
  return `${step.id}: ${parts.join(', ')}`;
}
