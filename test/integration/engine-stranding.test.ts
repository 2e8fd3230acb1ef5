import { createEngineRuntime, type EngineRuntime } from '../../src/app/engine-runtime';
import { serviceUrls } from '../../src/config/env';
import { advanceRun } from '../../src/engine/advance';
import { approve, abort, decide } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import { reconcileRuns } from '../../src/engine/watchdog';
import type { RunState } from '../../src/engine/types';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import type { Runbook } from '../../src/runbook/types';
import { configWithAccess, dropPrefix, RecordingNotifier } from '../helpers/engine';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';

/**
 * Issue 11: whatever is killed when, a run reaches an end. A worker that died is played here by
 * the writes it would have made before dying (claim, consume, start) and nothing after; the
 * engine then has to find its way from the state it left.
 */
const prefix = `t-strand-${process.pid}`;
const TOPOLOGY = 'strand';
let fleet: Fleet;
let rt: EngineRuntime;
let notifier: RecordingNotifier;
/** The engine's clock runs with real time, shifted by `offset` when a test jumps ahead. */
let offset = 0;
const clock = () => new Date(Date.now() + offset);
const alice = { id: 'alice' };
const bob = { id: 'bob' };

/** A read, then one destructive step per slave, approved together, run in parallel. */
const WIPE: Runbook = {
  name: 'wipe-slaves',
  flavour: 'coremedia',
  title: 'test: a gate of parallel destructive steps',
  source: 'test',
  target: 'none',
  steps: [
    { id: 'look', title: 'look', target: { kind: 'master' }, action: { kind: 'noop' }, risk: 'read' },
    {
      id: 'wipe',
      title: 'wipe',
      target: { kind: 'each-slave' },
      action: { kind: 'noop' },
      risk: 'destructive',
      independent: true,
      gate: 'wipe',
    },
  ],
};

beforeAll(async () => {
  fleet = await testFleet(
    TOPOLOGY,
    [masterNode('postgres'), slaveNode('rls-1', 'postgres', 1042), slaveNode('rls-2', 'postgres', 1042)],
    'strand',
  );
  notifier = new RecordingNotifier();
  rt = await createEngineRuntime({
    config: configWithAccess(fleet, { approvers: ['bob'], approvalTtlMinutes: 15 }).config,
    redisUrl: serviceUrls().redisUrl,
    prefix,
    notifier,
    runbook: (name) => (name === WIPE.name ? WIPE : undefined),
    clock,
  });
  rt.startWorker({ lockDurationMs: 1000, stalledIntervalMs: 500, watchdogMs: 300 });
});

afterEach(async () => {
  // A failed test must not leave its run holding the topology for the next one.
  const lease = await rt.deps.lease.current(TOPOLOGY);
  if (lease) await rt.deps.lease.release(TOPOLOGY, lease.runId, lease.token);
});

afterAll(async () => {
  await rt.close();
  await dropPrefix(prefix);
  await fleet.destroy();
  await expectNoLeakedHandles(1000);
});

beforeEach(() => {
  offset = 0;
});

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) {
      const runs = await rt.deps.ledger.listRuns(TOPOLOGY, 1);
      const jobs = await queue().getJobs(['failed', 'delayed', 'waiting', 'active']);
      throw new Error(
        `timed out waiting for ${what}: ${JSON.stringify((await rt.deps.audit.read(runs[0]!.id)).map((e) => e.summary))} ${JSON.stringify(runs[0])} ${JSON.stringify(await stepStates(runs[0]!.id))} lease ${JSON.stringify(await rt.deps.lease.current(TOPOLOGY))} jobs ${JSON.stringify(jobs.map((j) => [j?.id, j?.failedReason, j?.attemptsMade]))}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const runState = async (id: string) => (await rt.deps.ledger.getRun(id))?.state;
const stepStates = async (id: string) =>
  Object.fromEntries((await rt.deps.ledger.getSteps(id)).map((s) => [s.stepId, s.state]));
const reach = (id: string, state: RunState) =>
  until(`${id} ${state}`, async () => (await runState(id)) === state);

/** Started, the read done, the gate waiting for approval. */
async function waitingRun(): Promise<string> {
  const outcome = await startRun(rt.deps, {
    topology: TOPOLOGY,
    runbook: WIPE.name,
    target: null,
    requester: alice,
  });
  if (outcome.kind !== 'started') throw new Error('not started');
  await reach(outcome.run.id, 'awaiting-approval');
  return outcome.run.id;
}

/**
 * A worker that takes the approved run and dies: it claims the run (its heartbeat goes stale
 * after 1.5 s; the real worker's job waits for it until then), bob's approval lands, it spends
 * the approval on some steps and starts some of them, and writes nothing more.
 */
async function approveThenDie(
  runId: string,
  started: string[],
  consumedOnly: string[] = [],
  dropJobs = false,
) {
  const claim = await rt.deps.lease.claim(TOPOLOGY, runId, 1500);
  if (claim.kind !== 'claimed') throw new Error(`could not claim: ${claim.kind}`);
  const fence = { topology: TOPOLOGY, token: claim.lease.token };
  await approve(rt.deps, { runId, approver: bob });
  // As BullMQ leaves a job that stalled twice: failed, nothing waiting for the run.
  if (dropJobs)
    for (const job of await queue().getJobs(['waiting', 'delayed', 'active']))
      await job?.remove().catch(() => undefined);
  for (const stepId of [...started, ...consumedOnly])
    expect(await rt.deps.ledger.consumeApproval(runId, 'wipe', stepId, clock().toISOString())).toBe(true);
  for (const stepId of started)
    await rt.deps.ledger.transitionStep(runId, stepId, ['awaiting-approval'], 'running', {}, fence);
}

const queue = () => (rt.deps.queue as unknown as { queue: import('bullmq').Queue }).queue;

describe('a run always reaches an end', () => {
  it('two steps of a parallel stage left running: each is decided on its own; the run waits for the last', async () => {
    const runId = await waitingRun();
    await approveThenDie(runId, ['wipe--rls-1', 'wipe--rls-2']);

    await reach(runId, 'halted');
    expect(await stepStates(runId)).toMatchObject({ 'wipe--rls-1': 'unknown', 'wipe--rls-2': 'unknown' });
    const halt = (await rt.deps.audit.read(runId)).filter((e) => e.kind === 'halt');
    expect(halt).toHaveLength(1);
    expect(halt[0]!.summary).toMatch(/wipe--rls-1, wipe--rls-2 were running/);
    // It looked before it said so: nothing left running on the nodes, and what each holds now.
    expect(halt[0]!.detail.cancelled).toEqual([
      expect.stringMatching(/rls-1.*no leftover/),
      expect.stringMatching(/rls-2.*no leftover/),
    ]);
    expect(halt[0]!.summary).toMatch(/rls-1 holds \d+ tables; changelog up to 1042; replicator_remote 1042/);
    expect(halt[0]!.summary).toMatch(/rls-2 holds \d+ tables/);
    const halted = notifier.events.find((e) => e.type === 'run-halted' && e.run.id === runId);
    expect(halted).toMatchObject({ unknownSteps: ['wipe--rls-1', 'wipe--rls-2'] });

    await decide(rt.deps, runId, 'wipe--rls-1', 'mark-done', alice);
    expect(await runState(runId)).toBe('halted');
    expect((await rt.deps.ledger.getRun(runId))?.reason).toMatch(/still unknown: wipe--rls-2/);
    await expect(decide(rt.deps, runId, 'wipe--rls-1', 'retry', alice)).rejects.toThrow(
      /not in an unknown state/,
    );

    await decide(rt.deps, runId, 'wipe--rls-2', 'retry', alice);
    await reach(runId, 'awaiting-approval'); // the retry of a destructive step needs a fresh approval
    await approve(rt.deps, { runId, approver: bob });
    await reach(runId, 'done');
    const steps = await rt.deps.ledger.getSteps(runId);
    expect(steps.map((s) => [s.stepId, s.state, s.attempts])).toEqual([
      ['look--mls', 'done', 1],
      ['wipe--rls-1', 'done', 1],
      ['wipe--rls-2', 'done', 2],
    ]);
    const kinds = (await rt.deps.audit.read(runId)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'decision')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'approval')).toHaveLength(2);
    expect(kinds.at(-1)).toBe('finish');
    expect(await rt.deps.lease.current(TOPOLOGY)).toBeNull();
  });

  it('an approval spent by an attempt that never started is asked again, and the run ends done', async () => {
    const runId = await waitingRun();
    await approveThenDie(runId, [], ['wipe--rls-1']);

    await until('a fresh approval request', async () =>
      (await rt.deps.audit.read(runId)).some(
        (e) => e.kind === 'awaiting-approval' && /never started/.test(e.summary),
      ),
    );
    await reach(runId, 'awaiting-approval');
    await approve(rt.deps, { runId, approver: bob });
    await reach(runId, 'done');
    expect(Object.values(await stepStates(runId))).toEqual(['done', 'done', 'done']);
  });

  it('a run left running with no job and no live worker (its job stalled twice) is found by the watchdog and halted for a human', async () => {
    const runId = await waitingRun();
    await approveThenDie(runId, ['wipe--rls-1'], [], true);

    await reach(runId, 'halted');
    expect((await stepStates(runId))['wipe--rls-1']).toBe('unknown');
    await decide(rt.deps, runId, 'wipe--rls-1', 'mark-done', alice);
    await reach(runId, 'done');
  });

  it('abort frees the topology at once when no live worker can still be executing', async () => {
    const runId = await waitingRun();
    await approveThenDie(runId, ['wipe--rls-1'], [], true);
    // Still live: abort leaves the topology to the worker, which may yet record a result.
    await abort(rt.deps, runId, alice);
    expect(await runState(runId)).toBe('aborted');
    expect((await rt.deps.lease.current(TOPOLOGY))?.runId).toBe(runId);
    // Once its heartbeat is stale nothing can be executing: the watchdog lets the topology go.
    await until('the topology to be free', async () => (await rt.deps.lease.current(TOPOLOGY)) === null);
    expect((await stepStates(runId))['wipe--rls-1']).toBe('running');
  });

  it('approve killed after storing its approval: the watchdog moves the run on', async () => {
    const runId = await waitingRun();
    const plan = (await rt.deps.ledger.getPlan(runId))!;
    const lease = (await rt.deps.lease.current(TOPOLOGY))!;
    // Everything approve() writes, and not the enqueue that follows.
    const at = clock().toISOString();
    await rt.deps.ledger.recordApproval(
      runId,
      { gate: 'wipe', planHash: plan.hash, approver: 'bob', at, voidedAt: null, consumedAt: null },
      { topology: TOPOLOGY, token: lease.token },
    );
    expect(await runState(runId)).toBe('running');
    await reach(runId, 'done');
    expect(await reconcileRuns(rt.deps)).toEqual([]);
  });

  it('an approval is good for the TTL: an old request is asked again, an old approval is not acted on', async () => {
    const runId = await waitingRun();
    // A click on a request older than the TTL is refused, and the request is renewed.
    offset += 16 * 60_000;
    await expect(approve(rt.deps, { runId, approver: bob })).rejects.toThrow(
      /request expired.*approve the new request/,
    );
    await until(
      'the renewed request',
      async () =>
        (await runState(runId)) === 'awaiting-approval' &&
        (await rt.deps.ledger.getSteps(runId))
          .filter((x) => x.stepId.startsWith('wipe'))
          .every((x) => Date.parse(x.awaitingSince ?? '') > clock().getTime() - 60_000),
    );

    // Approved in time, but its steps had not started when the TTL ran out: asked again.
    const held = await rt.deps.lease.claim(TOPOLOGY, runId, 60_000);
    if (held.kind !== 'claimed') throw new Error('no claim');
    await approve(rt.deps, { runId, approver: bob });
    offset += 16 * 60_000;
    await rt.deps.lease.idle(TOPOLOGY, runId, held.lease.token);
    await until('the request after the expired approval', async () =>
      (await rt.deps.audit.read(runId)).some(
        (e) => e.kind === 'awaiting-approval' && /older than 15 min/.test(e.summary),
      ),
    );
    await reach(runId, 'awaiting-approval');
    expect(Object.values(await stepStates(runId)).filter((s) => s === 'done')).toHaveLength(1);
    await approve(rt.deps, { runId, approver: bob });
    await reach(runId, 'done');
  });

  it('every advance enqueued makes a job, even with the id parts of a completed one', async () => {
    const runId = await waitingRun();
    for (let i = 0; i < 2; i++) {
      await rt.deps.queue.advance(runId, 1, 'same-reason');
      await until('the job to complete', async () => !(await rt.deps.queue.hasLiveJob(runId)));
    }
    const same = (await queue().getJobs(['completed'])).filter(
      (j) => j?.data.runId === runId && j.data.reason === 'same-reason',
    );
    expect(same).toHaveLength(2);
    // Neither repeat asked humans again: one request per gate.
    expect(notifier.events.filter((e) => e.type === 'awaiting-approval' && e.run.id === runId)).toHaveLength(
      1,
    );
    await abort(rt.deps, runId, alice);
  });

  it('an advance job waits while another live worker moves the run, then goes on', async () => {
    const runId = await waitingRun();
    const held = await rt.deps.lease.claim(TOPOLOGY, runId, 60_000);
    if (held.kind !== 'claimed') throw new Error('no claim');
    await approve(rt.deps, { runId, approver: bob });
    await expect(advanceRun(rt.deps, runId)).rejects.toMatchObject({ code: 'RUN_BUSY' });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await runState(runId)).toBe('running'); // nothing moved while it was held
    await rt.deps.lease.idle(TOPOLOGY, runId, held.lease.token);
    await reach(runId, 'done');
  });
});
