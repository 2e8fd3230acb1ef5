/**
 * Recover's side of bench:failover: the real engine (BullMQ on Redis, steps over a real sshd)
 * runs a runbook on a test cluster while a second person approves every gate as soon as it is
 * asked. Approval waits are read back from the run's audit trail (`awaiting-approval` →
 * `approval`) and subtracted, so what is left is the machine's own time.
 */
import type { EngineRuntime } from '../src/app/engine-runtime';
import type { Topology } from '../src/config/topology';
import { approve } from '../src/engine/decisions';
import { startRun } from '../src/engine/start';
import { TERMINAL_RUN_STATES, type AuditEvent, type RunState } from '../src/engine/types';
import { dropPrefix } from '../test/helpers/engine';
import { pgEngine } from '../test/helpers/pg-runs';

const bob = { id: 'bob' };
const alice = { id: 'alice' };
/** How often the approver looks; the look-up delay lands inside the subtracted approval wait. */
const APPROVER_POLL_MS = 10;

export interface RecoverEngine {
  rt: EngineRuntime;
  close(): Promise<void>;
}

/** An engine for one topology, started before the crash as the running bot would be. */
export async function recoverEngine(topology: Topology, prefix: string): Promise<RecoverEngine> {
  const rt = await pgEngine(topology, prefix);
  // As the bot does at start (slack-bot.ts): SSH handshakes happen before the crash, not after.
  const failed = await rt.warmHosts();
  if (failed.length > 0) throw new Error(`SSH warm-up failed: ${JSON.stringify(failed)}`);
  return {
    rt,
    close: async () => {
      await rt.close();
      await dropPrefix(prefix);
    },
  };
}

export interface RecoverRun {
  runId: string;
  /** Date.now() just before startRun. */
  startedAtMs: number;
  plan: { candidate: string | null; steps: string[] };
  /** Settles when the run has ended (every gate approved by bob on sight). */
  ended: Promise<RunState>;
}

/** Start a run as alice, and have bob approve each gate the moment it is asked. */
export async function runWithApprovals(
  engine: RecoverEngine,
  topology: string,
  runbook: string,
  target: string | null,
): Promise<RecoverRun> {
  const { rt } = engine;
  const startedAtMs = Date.now();
  const outcome = await startRun(rt.deps, { topology, runbook, target, requester: alice });
  if (outcome.kind !== 'started') throw new Error(`${runbook}: ${outcome.kind}`);
  const runId = outcome.run.id;
  const ended = (async (): Promise<RunState> => {
    for (;;) {
      const run = await rt.deps.ledger.getRun(runId);
      if (!run) throw new Error(`run ${runId} vanished`);
      if (TERMINAL_RUN_STATES.includes(run.state) || run.state === 'halted') return run.state;
      // A person sees the prompt once the engine has posted it and let go of the run; a click that
      // lands while the worker still holds it is retried 500 ms later (jobs/run-processor.ts
      // BUSY_RETRY_MS), a delay no human approval meets. That wait counts as approval time.
      const holder = run.state === 'awaiting-approval' ? await rt.deps.lease.current(topology) : null;
      if (run.state === 'awaiting-approval' && holder?.busy === false) {
        await approve(rt.deps, { runId, approver: bob });
        // Until the engine has taken it, the run still says awaiting-approval: do not approve twice.
        while ((await rt.deps.ledger.getRun(runId))?.state === 'awaiting-approval')
          await new Promise((resolve) => setTimeout(resolve, APPROVER_POLL_MS));
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, APPROVER_POLL_MS));
    }
  })();
  ended.catch(() => undefined); // awaited by the caller; never an unhandled rejection meanwhile
  return {
    runId,
    startedAtMs,
    plan: {
      candidate: outcome.plan.steps.find((s) => s.templateId === 'promote')?.node ?? null,
      steps: outcome.plan.steps.map((s) => s.id),
    },
    ended,
  };
}

export interface StepSpan {
  step: string;
  /** First step-start, relative to the run's start. */
  fromMs: number;
  /** Last step-result, relative to the run's start. */
  toMs: number;
  ms: number;
  /** How many times it was executed (wait-until / checklist steps are checked again and again). */
  checks: number;
}

export interface Breakdown {
  /** startRun until the `start` event: the probe of every node and the plan. */
  planMs: number;
  /** Per gate: awaiting-approval → approval (a human's time, not the machine's). */
  approvalWaitMs: Record<string, number>;
  approvalWaitTotalMs: number;
  steps: StepSpan[];
  /** Run start → finish event (approvals included). */
  finishedMs: number | null;
}

/** Where a run's time went, from the timestamps of its audit events. */
export async function breakdown(engine: RecoverEngine, run: RecoverRun): Promise<Breakdown> {
  const events: AuditEvent[] = await engine.rt.deps.audit.read(run.runId);
  const rel = (e: AuditEvent) => Date.parse(e.at) - run.startedAtMs;
  const approvalWaitMs: Record<string, number> = {};
  let asked: AuditEvent | undefined;
  for (const e of events) {
    if (e.kind === 'awaiting-approval') asked ??= e;
    if (e.kind === 'approval' && asked) {
      const gate = String(e.detail.gate);
      approvalWaitMs[gate] = (approvalWaitMs[gate] ?? 0) + Date.parse(e.at) - Date.parse(asked.at);
      asked = undefined;
    }
  }
  const spans = new Map<string, StepSpan>();
  for (const e of events) {
    if (!e.stepId || (e.kind !== 'step-start' && e.kind !== 'step-result')) continue;
    const step = e.stepId.split('--')[0]!;
    const key = e.stepId;
    const span = spans.get(key) ?? { step, fromMs: rel(e), toMs: rel(e), ms: 0, checks: 0 };
    if (e.kind === 'step-start') span.checks++;
    else span.toMs = rel(e);
    span.ms = span.toMs - span.fromMs;
    spans.set(key, span);
  }
  const start = events.find((e) => e.kind === 'start');
  const finish = events.find((e) => e.kind === 'finish');
  return {
    planMs: start ? rel(start) : 0,
    approvalWaitMs,
    approvalWaitTotalMs: Object.values(approvalWaitMs).reduce((a, b) => a + b, 0),
    steps: [...spans.values()].sort((a, b) => a.fromMs - b.fromMs),
    finishedMs: finish ? rel(finish) : null,
  };
}
