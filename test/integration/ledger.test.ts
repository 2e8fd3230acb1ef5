import Redis from 'ioredis';
import { serviceUrls } from '../../src/config/env';
import type { Fence } from '../../src/engine/keys';
import { LedgerError, RunLedger } from '../../src/engine/ledger';
import { StaleTokenError, TopologyLease } from '../../src/engine/lease';
import type { Approval, RunRecord } from '../../src/engine/types';
import type { Plan, PlanStep, StepResult } from '../../src/runbook/types';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

const prefix = `test-ledger-${process.pid}-${Date.now()}`;
const conns = Array.from({ length: 3 }, () => new Redis(serviceUrls().redisUrl));
const redis = conns[0]!;
let now = new Date('2024-05-01T10:00:00.000Z');
const clock = () => now;
const ledger = new RunLedger(redis, { prefix, clock });
const lease = new TopologyLease(redis, { prefix, clock });
/** A ledger on the i-th connection, so concurrent calls really race on the server. */
const on = (i: number) => new RunLedger(conns[i % conns.length]!, { prefix, clock });
type Move = Parameters<RunLedger['transitionStep']>;
const move = (runId: string, stepId: string, from: Move[2], to: Move[3], fence: Fence, patch: Move[4] = {}) =>
  ledger.transitionStep(runId, stepId, from, to, patch, fence);

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await Promise.all(conns.map((c) => c.quit()));
  await expectNoLeakedHandles();
});

let seq = 0;
/** A fresh topology holding a fresh run with steps read-1, then gate g1 (wipe-a, wipe-b). */
async function started(
  steps = ['read-1', 'wipe-a', 'wipe-b'],
): Promise<{ run: RunRecord; plan: Plan; fence: Fence }> {
  seq += 1;
  const topology = `topo-${seq}`;
  const plan = planOf(topology, 'hash-1', steps);
  const run = runOf(`run-${seq}`, topology, plan.hash);
  const acquired = await lease.acquire(topology, run.id, run.requester);
  if (!acquired.ok) throw new Error('expected the lease');
  await ledger.createRun(run, plan);
  return { run, plan, fence: { topology, token: acquired.lease.token } };
}

describe('RunLedger runs and steps', () => {
  it('stores the run, its plan and a pending record per step in plan order; refuses a duplicate id', async () => {
    const { run, plan } = await started();
    expect(await ledger.getRun(run.id)).toEqual(run);
    expect(await ledger.getPlan(run.id)).toEqual(plan);
    const steps = await ledger.getSteps(run.id);
    expect(steps.map((s) => [s.stepId, s.state, s.attempts])).toEqual([
      ['read-1', 'pending', 0],
      ['wipe-a', 'pending', 0],
      ['wipe-b', 'pending', 0],
    ]);
    const empty = { startedAt: null, finishedAt: null, result: null, awaitingSince: null };
    expect(steps[0]).toEqual({ stepId: 'read-1', state: 'pending', attempts: 0, ...empty });
    await expect(ledger.createRun(run, plan)).rejects.toMatchObject({ code: 'RUN_EXISTS' });
    expect(await ledger.getRun('no-such-run')).toBeNull();
  });

  it('transitions only from the given states and counts attempts on entering running', async () => {
    const { run, fence } = await started();
    const t0 = '2024-05-01T10:00:01.000Z';
    const running = await move(run.id, 'read-1', ['pending'], 'running', fence, { startedAt: t0 });
    expect(running).toMatchObject({ state: 'running', attempts: 1, startedAt: t0 });
    expect(await move(run.id, 'read-1', ['pending'], 'running', fence)).toBeNull();

    const none = { affectedRows: null, exitCode: null, stdoutTail: null, stderrTail: null, bytes: null };
    const result: StepResult = {
      ...{
        ok: true,
        rows: [{ sequenceno: 1050, idtag: 'x' }],
        rowCount: 1,
        durationMs: 12,
        error: null,
        note: null,
      },
      ...{ captured: { sequenceno: '1050' }, ...none },
    };
    const done = await move(run.id, 'read-1', ['running'], 'done', fence, { result, finishedAt: t0 });
    expect(done).toEqual({ ...running, state: 'done', result, finishedAt: t0 });
    expect(await ledger.getStep(run.id, 'read-1')).toEqual(done);
    await expect(move(run.id, 'nope', ['pending'], 'running', fence)).rejects.toMatchObject({
      code: 'STEP_NOT_FOUND',
    });
  });

  it('lets exactly one of ten concurrent pending → running transitions win', async () => {
    const { run, fence } = await started();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        on(i).transitionStep(run.id, 'wipe-a', ['pending'], 'running', {}, fence),
      ),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await ledger.getStep(run.id, 'wipe-a')).toMatchObject({ state: 'running', attempts: 1 });
  });

  it('throws StaleTokenError for a stale fence and changes nothing', async () => {
    const { run, fence } = await started();
    const taken = await lease.takeOver(fence.topology, run.id);
    const stale = { topology: fence.topology, token: fence.token };
    const before = await ledger.getSteps(run.id);
    const runBefore = await ledger.getRun(run.id);

    const attempt = ledger.transitionStep(run.id, 'read-1', ['pending'], 'running', {}, stale);
    await expect(attempt).rejects.toBeInstanceOf(StaleTokenError);
    await expect(attempt).rejects.toMatchObject({
      code: 'STALE_TOKEN',
      token: fence.token,
      current: taken!.token,
    });
    await expect(ledger.setRunState(run.id, 'halted', stale, 'x')).rejects.toBeInstanceOf(StaleTokenError);
    await expect(
      ledger.recordApproval(run.id, approval('g1', 'hash-1', 'bob'), stale),
    ).rejects.toBeInstanceOf(StaleTokenError);
    expect(await ledger.getSteps(run.id)).toEqual(before);
    expect(await ledger.getRun(run.id)).toEqual(runBefore);
    expect(await ledger.getApproval(run.id, 'g1')).toBeNull();
    // The fence must name the run's own topology.
    await expect(
      ledger.setRunState(run.id, 'halted', { topology: 'topo-elsewhere', token: taken!.token }),
    ).rejects.toMatchObject({ code: 'WRONG_TOPOLOGY' });
  });

  it('sets the run state with a reason; a terminal state is final', async () => {
    const { run, fence } = await started();
    now = new Date('2024-05-01T10:30:00.000Z');
    expect(await ledger.setRunState(run.id, 'halted', fence, 'wipe-a unknown')).toMatchObject({
      state: 'halted',
      reason: 'wipe-a unknown',
      updatedAt: now.toISOString(),
    });
    expect(await ledger.setRunState(run.id, 'running', fence, null)).toMatchObject({
      state: 'running',
      reason: null,
    });
    await ledger.setRunState(run.id, 'aborted', fence, 'aborted by bob');
    expect(await ledger.setRunState(run.id, 'aborted', fence, 'again')).toMatchObject({
      reason: 'aborted by bob',
    });
    await expect(ledger.setRunState(run.id, 'running', fence)).rejects.toMatchObject({ code: 'RUN_ENDED' });
  });

  it('replacePlan keeps done steps, restarts the others, adds new ones and updates planHash', async () => {
    const { run, plan, fence } = await started();
    await move(run.id, 'read-1', ['pending'], 'running', fence);
    const done = await move(run.id, 'read-1', ['running'], 'done', fence, { finishedAt: 'T' });
    await move(run.id, 'wipe-a', ['pending'], 'awaiting-approval', fence, { awaitingSince: 'T' });

    const fresh = planOf(run.topology, 'hash-2', ['read-1', 'wipe-a', 'wipe-c']);
    await ledger.replacePlan(run.id, fresh, fence.token);

    expect(await ledger.getPlan(run.id)).toEqual(fresh);
    expect((await ledger.getRun(run.id))?.planHash).toBe('hash-2');
    const steps = await ledger.getSteps(run.id);
    expect(steps.map((s) => [s.stepId, s.state])).toEqual([
      ['read-1', 'done'],
      ['wipe-a', 'pending'],
      ['wipe-c', 'pending'],
    ]);
    expect(steps[0]).toEqual(done);
    expect(steps[1]?.awaitingSince).toBeNull();
    expect(await ledger.getStep(run.id, 'wipe-b')).toBeNull();

    // A step in flight must be settled by a human before the plan can change.
    await move(run.id, 'wipe-a', ['pending'], 'running', fence);
    await expect(ledger.replacePlan(run.id, plan, fence)).rejects.toMatchObject({ code: 'STEP_IN_FLIGHT' });
    expect((await ledger.getRun(run.id))?.planHash).toBe('hash-2');
    await expect(ledger.replacePlan(run.id, fresh, fence.token + 99)).rejects.toBeInstanceOf(StaleTokenError);
  });

  it('lists runs newest first, per topology or all', async () => {
    const a = await started();
    now = new Date('2024-05-01T09:00:00.000Z'); // created earlier than a, though stored later
    const b = await started();
    now = new Date('2024-05-01T11:00:00.000Z');
    const c = await started();
    now = new Date('2024-05-01T10:00:00.000Z');

    const all = (await ledger.listRuns(undefined, 1000)).map((r) => r.id);
    const ours = all.filter((id) => [a.run.id, b.run.id, c.run.id].includes(id));
    expect(ours).toEqual([c.run.id, a.run.id, b.run.id]);
    expect((await ledger.listRuns(undefined, 1)).map((r) => r.id)).toEqual([all[0]]);
    expect((await ledger.listRuns(b.run.topology)).map((r) => r.id)).toEqual([b.run.id]);
  });
});

describe('RunLedger approvals', () => {
  it('counts a double click once', async () => {
    const { run, fence } = await started();
    const click = (i: number) => on(i).recordApproval(run.id, approval('g1', 'hash-1', 'bob'), fence);
    const clicks = await Promise.all(Array.from({ length: 5 }, (_, i) => click(i)));
    expect(clicks.filter((c) => c.recorded)).toHaveLength(1);
    const stored = await ledger.getApproval(run.id, 'g1');
    expect(stored).toEqual({ ...approval('g1', 'hash-1', 'bob'), voidedAt: null, consumedAt: null });
    for (const c of clicks.filter((x) => !x.recorded))
      expect(c).toEqual({ recorded: false, existing: stored });
  });

  it('refuses an approval for a plan that is not the current one', async () => {
    const { run, fence } = await started();
    const old = approval('g1', 'hash-0', 'bob');
    await expect(ledger.recordApproval(run.id, old, fence)).rejects.toMatchObject({ code: 'STALE_PLAN' });
  });

  it('consumes an approval once per step', async () => {
    const { run, fence } = await started();
    await ledger.recordApproval(run.id, approval('g1', 'hash-1', 'bob'), fence);
    const at = '2024-05-01T10:01:00.000Z';
    const consume = (i: number) => on(i).consumeApproval(run.id, 'g1', 'wipe-a', at);
    const racers = await Promise.all(Array.from({ length: 5 }, (_, i) => consume(i)));
    expect(racers.filter(Boolean)).toHaveLength(1);
    expect(await ledger.consumeApproval(run.id, 'g1', 'wipe-a', at)).toBe(false);
    // The other step of the gate has its own one use.
    expect(await ledger.consumeApproval(run.id, 'g1', 'wipe-b', at)).toBe(true);
    expect(await ledger.consumeApproval(run.id, 'g1', 'wipe-b', at)).toBe(false);
    expect((await ledger.getApproval(run.id, 'g1'))?.consumedAt).toBe(at);
    await expect(ledger.consumeApproval(run.id, 'g1', 'read-1', at)).rejects.toMatchObject({
      code: 'NOT_IN_GATE',
    });
  });

  it('voids an approval; a fresh one (retry) can be consumed again, a void one never', async () => {
    const { run, fence } = await started();
    await ledger.recordApproval(run.id, approval('g1', 'hash-1', 'bob'), fence);
    expect(await ledger.consumeApproval(run.id, 'g1', 'wipe-a', 'T1')).toBe(true);

    expect(await ledger.voidApproval(run.id, 'g1', 'T2')).toBe(true);
    expect(await ledger.voidApproval(run.id, 'g1', 'T3')).toBe(false);
    expect(await ledger.getApproval(run.id, 'g1')).toBeNull();
    const noApproval = ledger.consumeApproval(run.id, 'g1', 'wipe-b', 'T3');
    await expect(noApproval).rejects.toBeInstanceOf(LedgerError);
    await expect(noApproval).rejects.toMatchObject({ code: 'NO_APPROVAL' });

    const again = await ledger.recordApproval(run.id, approval('g1', 'hash-1', 'carol'), fence);
    expect(again.recorded).toBe(true);
    expect(await ledger.getApproval(run.id, 'g1')).toMatchObject({ approver: 'carol', voidedAt: null });
    expect(await ledger.consumeApproval(run.id, 'g1', 'wipe-a', 'T4')).toBe(true);
  });

  it('an approval of an older plan cannot be consumed after replacePlan', async () => {
    const { run, fence } = await started();
    await ledger.recordApproval(run.id, approval('g1', 'hash-1', 'bob'), fence);
    await ledger.replacePlan(run.id, planOf(run.topology, 'hash-2', ['read-1', 'wipe-a', 'wipe-b']), fence);
    await expect(ledger.consumeApproval(run.id, 'g1', 'wipe-a', 'T')).rejects.toMatchObject({
      code: 'STALE_PLAN',
    });
    // Approving the new plan supersedes (voids) the old approval.
    expect((await ledger.recordApproval(run.id, approval('g1', 'hash-2', 'bob'), fence)).recorded).toBe(true);
    expect(await ledger.getApproval(run.id, 'g1')).toMatchObject({ planHash: 'hash-2' });
    expect(await ledger.consumeApproval(run.id, 'g1', 'wipe-a', 'T')).toBe(true);
  });
});

function approval(gate: string, planHash: string, approver: string): Approval {
  return { gate, planHash, approver, at: '2024-05-01T10:00:30.000Z', voidedAt: null, consumedAt: null };
}

function runOf(id: string, topology: string, planHash: string): RunRecord {
  const at = now.toISOString();
  return {
    id,
    topology,
    runbook: 'test',
    target: null,
    requester: 'alice',
    state: 'running',
    planHash,
    createdAt: at,
    updatedAt: at,
    reason: null,
    dryRun: false,
  };
}

/** Steps named `wipe-*` are destructive and share gate g1. */
function planOf(topology: string, hash: string, ids: string[]): Plan {
  const steps: PlanStep[] = ids.map((id, i) => ({
    id,
    templateId: id,
    title: id,
    node: 'n1',
    engine: 'postgres',
    risk: id.startsWith('wipe') ? 'destructive' : 'read',
    action: { kind: 'sql', sql: 'SELECT 1', params: [] },
    captures: [],
    check: null,
    stage: id.startsWith('wipe') ? 1 : i,
    gate: id.startsWith('wipe') ? 'g1' : null,
  }));
  return {
    runbook: 'test',
    topology,
    target: null,
    basis: {
      flavour: 'coremedia',
      probedAt: 'T',
      unknown: [],
      summary: '',
      followUp: null,
      facts: {},
    },
    steps,
    warnings: [],
    hash,
  };
}
