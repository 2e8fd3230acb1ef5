import { stepTag } from '../db/step-tag';
import { LedgerError } from './ledger';
import type { PlanStep, StepResult } from '../runbook/types';
import { auditEvent, topologyOf, type EngineDeps } from './deps';
import { execute } from './executors';
import { progressReporter } from './progress';
import type { Fence } from './finish';
import type { RunRecord, StepRecord } from './types';

const READ_RETRIES = 3;

/**
 * What running one step came to: its result; null when another attempt had it already;
 * 'reapprove' when the gate's approval was already spent on this step by an attempt that never
 * started; 'expired' when the approval is too old to act on.
 */
export type StepOutcome = StepResult | null | 'reapprove' | 'expired' | { wait: number };

export async function runStep(
  deps: EngineDeps,
  run: RunRecord,
  step: PlanStep,
  gate: string | null,
  fence: Fence,
  records: Map<string, StepRecord>,
): Promise<StepOutcome> {
  // Done already (decided by a human, or an earlier attempt of this stage): nothing to spend or run.
  const state = records.get(step.id)?.state ?? 'pending';
  if (state !== 'pending' && state !== 'awaiting-approval') return null;
  if (step.risk === 'destructive' && gate) {
    const spent = await spendApproval(deps, run, step, gate);
    if (spent !== 'ok') return spent;
  }
  const started = await deps.ledger.transitionStep(
    run.id,
    step.id,
    ['pending', 'awaiting-approval'],
    'running',
    { startedAt: deps.clock().toISOString() },
    fence,
    auditEvent(deps, {
      runId: run.id,
      kind: 'step-start',
      actor: null,
      stepId: step.id,
      summary: `${step.title} on ${step.node}`,
      detail: { action: step.action, risk: step.risk },
    }),
  );
  if (!started) return null; // already taken by another attempt: never run a step twice
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
    // Its sessions carry the attempt's tag, so what a dead worker left running can be found.
    tag: stepTag({ runId: run.id, stepId: step.id, attempt: started.attempts }),
    // Throttled: a long dump→restore shows bytes, rate and ETA now and then, not per chunk.
    progress: progressReporter(
      (progress) => {
        void deps.notifier
          .notify({ type: 'step-progress', run, stepId: step.id, progress })
          .catch(() => undefined);
      },
      { everyMs: deps.progressEveryMs },
    ),
  };
  let result = await execute(deps.executors, step, ctx);
  if (result.waiting) {
    const waited = await waitAgain(deps, run, step, fence, records.get(step.id), result);
    if (waited) return waited;
    result = {
      ...result,
      waiting: false,
      error: `${timeoutText(step)}: ${result.error ?? 'condition not met'}`,
    };
  }
  // Reads cannot make anything worse: retry them with backoff. Nothing else is retried unasked.
  // (A wait that timed out has had its chances.)
  const retries = waitTiming(step).timeoutMs > 0 ? 1 : READ_RETRIES;
  for (let attempt = 1; !result.ok && step.risk === 'read' && attempt < retries; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    result = await execute(deps.executors, step, ctx);
  }
  // The result and its audit event land together, or (fenced out) neither does.
  await deps.ledger.transitionStep(
    run.id,
    step.id,
    ['running'],
    result.ok ? 'done' : 'failed',
    { result, finishedAt: deps.clock().toISOString() },
    fence,
    auditEvent(deps, {
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
    }),
  );
  await deps.notifier.notify({ type: 'step-result', run, stepId: step.id, result });
  return result;
}

const waitTiming = (step: PlanStep) =>
  step.action.kind === 'wait-until' || step.action.kind === 'checklist'
    ? { intervalMs: step.action.intervalMs, timeoutMs: step.action.timeoutMs }
    : { intervalMs: 1000, timeoutMs: 0 };

const timeoutText = (step: PlanStep) => {
  // The runbook's own words for what the timeout means come first: that is what a human must read.
  const meaning = step.action.kind === 'wait-until' ? step.action.timeoutMessage : undefined;
  return `${meaning ? `${meaning} (` : ''}still not satisfied after ${waitTiming(step).timeoutMs} ms${meaning ? ')' : ''}`;
};

/**
 * A wait or checklist that does not hold yet goes back to pending (so a crash while waiting is
 * harmless) and is checked again by a delayed job: no worker is held in between, and an abort
 * simply finds the run ended. Null once the step's time is up: the caller fails it.
 */
async function waitAgain(
  deps: EngineDeps,
  run: RunRecord,
  step: PlanStep,
  fence: Fence,
  before: StepRecord | undefined,
  result: StepResult,
): Promise<{ wait: number } | null> {
  const now = deps.clock();
  const since = before?.waitingSince ?? now.toISOString();
  const { intervalMs, timeoutMs } = waitTiming(step);
  if (now.getTime() - Date.parse(since) >= timeoutMs) return null;
  const first = !before?.waitingSince;
  await deps.ledger.transitionStep(
    run.id,
    step.id,
    ['running'],
    'pending',
    { result, waitingSince: since },
    fence,
    first
      ? auditEvent(deps, {
          runId: run.id,
          kind: 'step-waiting',
          actor: null,
          stepId: step.id,
          summary: `${step.id}: waiting (${result.error ?? 'condition not met'}); checking every ${intervalMs} ms for up to ${timeoutMs} ms`,
          detail: { checklist: result.checklist ?? null },
        })
      : undefined,
  );
  await deps.notifier.notify({ type: 'step-waiting', run, stepId: step.id, result, first });
  return { wait: intervalMs };
}

/**
 * One approval, one execution per step: consumed atomically before the step may start, and only
 * while it is younger than the topology's approval TTL. A consumption that fails means nothing
 * ran: ask for a fresh approval rather than guess.
 */
async function spendApproval(
  deps: EngineDeps,
  run: RunRecord,
  step: PlanStep,
  gate: string,
): Promise<'ok' | 'reapprove' | 'expired'> {
  const now = deps.clock();
  const ttlMs = topologyOf(deps, run.topology).access.approvalTtlMinutes * 60_000;
  const givenAfter = new Date(now.getTime() - ttlMs).toISOString();
  try {
    const ok = await deps.ledger.consumeApproval(run.id, gate, step.id, now.toISOString(), givenAfter);
    return ok ? 'ok' : 'reapprove';
  } catch (err) {
    if (err instanceof LedgerError && err.code === 'APPROVAL_EXPIRED') return 'expired';
    return 'reapprove';
  }
}

export function resultSummary(step: PlanStep, r: StepResult): string {
  const parts = [r.ok ? 'ok' : `FAILED: ${r.error ?? 'check failed'}`];
  if (r.affectedRows !== null) parts.push(`${r.affectedRows} rows affected`);
  if (r.rowCount > 0) parts.push(`${r.rowCount} rows`);
  if (r.exitCode !== null) parts.push(`exit ${r.exitCode}`);
  const captured = Object.entries(r.captured).map(([k, v]) => `${k}=${oneLine(v)}`);
  if (captured.length > 0) parts.push(`captured ${captured.join(' ')}`);
  parts.push(`${Math.round(r.durationMs)} ms`);
  return `${step.id}: ${parts.join(', ')}`;
}

const SUMMARY_VALUE_CHARS = 120;

/**
 * A summary is one line: a captured block (a THL header, `thl info`) shows its first line and how
 * many more there are; the whole value stays in the step's result and output tail.
 */
export function oneLine(value: string): string {
  const lines = value.split('\n').filter((l) => l.trim() !== '');
  const first = (lines[0] ?? '').replace(/\t/g, ' ');
  const cut = first.length > SUMMARY_VALUE_CHARS ? `${first.slice(0, SUMMARY_VALUE_CHARS)}…` : first;
  return lines.length > 1 ? `${cut} (+${lines.length - 1} lines)` : cut;
}
