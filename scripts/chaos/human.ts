import type { EngineDeps } from '../../src/engine/deps';
import { TERMINAL_RUN_STATES, type RunRecord, type StepRecord } from '../../src/engine/types';
import type { ChaosFleet } from './chaos-fleet';
import { lookAtEffect } from './fleet-view';
import type { Hands, Outcome } from './hands';
import type { Rng } from './prng';
import type { ToolWrappers } from './tool-wrappers';

/** What the humans did and saw during one run (the invariants compare it with the audit). */
export interface HumanRecord {
  /** Approvals the engine confirmed as counted, by gate. */
  approvals: string[];
  /** Decisions the engine confirmed, with what the human saw on the fleet. */
  decisions: { stepId: string; choice: 'retry' | 'mark-done'; saw: string }[];
  /** Times the run was seen entering `halted`. */
  haltEpisodes: number;
  /** Requests the engine refused (not errors: e.g. a decision while not halted). */
  refusals: string[];
  /** Requests whose outcome the human never learnt (its process was killed, Redis was down). */
  lost: number;
  /** Set when the run could not progress and the humans gave up (aborted it). */
  stuck: string | null;
  /** When the ledger last showed a change (the chaos holds back on a run that looks stuck). */
  lastChange: number;
}

export interface HumanOptions {
  deps: EngineDeps;
  hands: Hands;
  runId: string;
  fleet: ChaosFleet;
  wrappers: ToolWrappers;
  rng: Rng;
  /** No visible change for this long: the run is stuck; abort it (a failure of the engine). */
  stuckMs: number;
  /** The suite's time is up: give up on this run too. */
  deadline: number;
  /** Called on every look at the ledger (the chaos uses it to kill workers mid-step). */
  onTick?: (run: RunRecord, steps: StepRecord[]) => Promise<void>;
  /** Filled in as the humans go (the caller shares it with the chaos). */
  record: HumanRecord;
  /** True while no worker is up (being restarted): that time does not count towards stuck. */
  starved?: () => boolean;
  /** More to say about a stuck run, read before it is aborted (lease, queue). */
  stuckContext?: () => Promise<string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Nothing a human waits for may hang the suite: past `ms` the wait fails, naming what hung. */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * alice requested the run; bob approves every gate it waits on; when a step's outcome is unknown
 * alice looks at the fleet and decides mark-done if its effect is fully there, else retry. They
 * abort only when nothing has moved for `stuckMs`.
 */
export async function actAsHumans(o: HumanOptions): Promise<HumanRecord> {
  const rec = o.record;
  const plan = (await o.deps.ledger.getPlan(o.runId))!;
  let signature = '';
  let lastChange = Date.now();
  rec.lastChange = lastChange;
  let wasHalted = false;
  const tried = new Set<string>();
  for (;;) {
    const seen = await look(o);
    if (!seen) {
      if (Date.now() - lastChange > o.stuckMs) return giveUp(o, rec, 'the ledger could not be read');
      await sleep(300);
      continue;
    }
    const { run, steps } = seen;
    const sig = `${run.state}|${steps.map((s) => `${s.stepId}:${s.state}:${s.attempts}`).join(',')}`;
    if (sig !== signature) rec.lastChange = Date.now();
    if (sig !== signature || o.starved?.()) [signature, lastChange] = [sig, Date.now()];
    if (TERMINAL_RUN_STATES.includes(run.state)) return rec;
    if (run.state === 'halted' && !wasHalted) rec.haltEpisodes++;
    wasHalted = run.state === 'halted';
    await o.onTick?.(run, steps);
    if (Date.now() > o.deadline) return giveUp(o, rec, describe(run, steps, 'the suite ran out of time'));
    if (Date.now() - lastChange > o.stuckMs)
      return giveUp(o, rec, describe(run, steps, `nothing moved for ${Math.round(o.stuckMs / 1000)} s`));

    const unknown = steps.filter((s) => s.state === 'unknown');
    const current =
      (await within(10_000, 'the plan', o.deps.ledger.getPlan(o.runId)).catch(() => null)) ?? plan;
    if (unknown.length > 0) {
      for (const u of unknown) {
        const key = `${u.stepId}|${sig}`;
        if (tried.has(key)) continue;
        tried.add(key);
        const step = current.steps.find((p) => p.id === u.stepId);
        if (!step) continue;
        const { present, saw } = await within(
          60_000,
          `a look at ${step.node}`,
          lookAtEffect(o.fleet, o.wrappers, step),
        );
        const choice = present ? 'mark-done' : 'retry';
        const r = await within(60_000, 'decide', o.hands.decide(o.runId, u.stepId, choice, 'alice')).catch(
          lostOutcome,
        );
        if (r.kind === 'ok') rec.decisions.push({ stepId: u.stepId, choice, saw });
        else if (r.kind === 'refused')
          rec.refusals.push(`decide ${choice} ${u.stepId} (run ${run.state}): ${r.text}`);
        else {
          rec.lost++;
          tried.delete(key); // the request died on the way: a person would look and try again
        }
      }
    } else if (run.state === 'awaiting-approval') {
      await sleep(o.rng.between(50, 600)); // a person reads the request before clicking
      const r = await within(60_000, 'approve', o.hands.approve(o.runId, 'bob')).catch(lostOutcome);
      if (r.kind === 'ok' && r.counted) rec.approvals.push(gateOf(r.text));
      else if (r.kind === 'refused') rec.refusals.push(`approve: ${r.text}`);
      else if (r.kind === 'lost') rec.lost++;
    }
    await sleep(o.rng.between(80, 200));
  }
}

const lostOutcome = (err: Error): Outcome => ({ kind: 'lost', text: err.message });

async function look(o: HumanOptions): Promise<{ run: RunRecord; steps: StepRecord[] } | null> {
  try {
    const run = await within(10_000, 'the run record', o.deps.ledger.getRun(o.runId));
    return run
      ? { run, steps: await within(10_000, 'the step records', o.deps.ledger.getSteps(o.runId)) }
      : null;
  } catch {
    return null; // Redis restarting
  }
}

/** "gate X" (in process) or `approved "X" of RUN` (CLI). */
function gateOf(text: string): string {
  return /^gate (\S+)/.exec(text)?.[1] ?? /approved "([^"]+)"/.exec(text)?.[1] ?? text;
}

function describe(run: RunRecord, steps: StepRecord[], why: string): string {
  const open = steps
    .filter((s) => s.state !== 'done' && s.state !== 'skipped' && s.state !== 'pending')
    .map((s) => `${s.stepId}=${s.state}(attempts ${s.attempts})`);
  const pending = steps.filter((s) => s.state === 'pending').length;
  const done = steps.filter((s) => s.state === 'done').length;
  return `${why}: run ${run.id} ${run.state}${run.reason ? ` (${run.reason})` : ''}; ${done}/${steps.length} done, ${pending} pending; ${open.join(', ') || 'no step in flight'}`;
}

async function giveUp(o: HumanOptions, rec: HumanRecord, description: string): Promise<HumanRecord> {
  rec.stuck =
    description + (o.stuckContext ? `; ${await o.stuckContext().catch((e: Error) => e.message)}` : '');
  const r = await o.hands.abort(o.runId, 'alice');
  if (r.kind !== 'ok') rec.refusals.push(`abort: ${r.text}`);
  return rec;
}
