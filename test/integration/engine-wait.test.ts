import { Queue } from 'bullmq';
import { createEngineRuntime, type EngineRuntime } from '../../src/app/engine-runtime';
import { redisOptionsFromUrl } from '../../src/engine/redis-options';
import { RUN_QUEUE } from '../../src/engine/run-queue';
import { serviceUrls } from '../../src/config/env';
import { abort } from '../../src/engine/decisions';
import { followRun } from '../../src/cli/runtime';
import type { CliContext } from '../../src/cli/context';
import { Writable } from 'node:stream';
import { startRun } from '../../src/engine/start';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import type { Runbook, StepResult } from '../../src/runbook/types';
import { onNode } from '../helpers/coremedia-sql';
import { configWithAccess, dropPrefix, RecordingNotifier } from '../helpers/engine';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { until } from '../helpers/until';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';

/**
 * Issue 12's engine parts: `wait-until` and `checklist` steps are checked by delayed jobs (no
 * worker is held while they wait, an abort ends them), and `command` steps capture their output.
 */
const prefix = `t-wait-${process.pid}`;
const TOPOLOGY = 'waits';
let fleet: Fleet;
let rt: EngineRuntime;
const alice = { id: 'alice' };

const flagged = (timeoutMs: number) => ({
  probe: { kind: 'sql' as const, sql: 'SELECT count(*) > 0 AS ok FROM wait_flag', params: [] },
  until: { kind: 'column-true' as const, column: 'ok' },
  intervalMs: 200,
  timeoutMs,
});

const WAITS: Runbook = {
  name: 'waits',
  flavour: 'coremedia',
  title: 'test: wait, checklist, command',
  source: 'test',
  target: 'none',
  steps: [
    {
      id: 'flag-on-master',
      title: 'the master has a flag',
      target: { kind: 'master' },
      action: { kind: 'wait-until', ...flagged(60_000) },
      risk: 'read',
    },
    {
      id: 'flag-everywhere',
      title: 'every slave has a flag',
      target: { kind: 'master' },
      action: { kind: 'checklist', each: { kind: 'each-slave' }, title: 'flag', ...flagged(60_000) },
      risk: 'read',
    },
    {
      id: 'read-lsn',
      title: 'a command whose output is captured',
      target: { kind: 'master' },
      action: {
        kind: 'command',
        argv: ['sh', '-c', 'echo "lsn: 0/3000060"; echo to-stderr >&2'],
        where: 'local',
        timeoutMs: 10_000,
        outputs: [{ name: 'lsn', pattern: 'lsn: (\\S+)' }],
      },
      risk: 'read',
    },
  ],
};

const SHORT: Runbook = {
  ...WAITS,
  name: 'short-wait',
  steps: [{ ...WAITS.steps[0]!, action: { kind: 'wait-until', ...flagged(1_000) } }],
};

beforeAll(async () => {
  fleet = await testFleet(
    TOPOLOGY,
    [masterNode('postgres'), slaveNode('rls-1', 'postgres', 1042), slaveNode('rls-2', 'mysql', 1042)],
    'waits',
  );
  for (const node of ['mls', 'rls-1', 'rls-2']) await onNode(fleet, node, 'CREATE TABLE wait_flag (id int)');
  rt = await createEngineRuntime({
    config: configWithAccess(fleet, { approvers: ['bob'] }).config,
    redisUrl: serviceUrls().redisUrl,
    prefix,
    notifier: new RecordingNotifier(),
    runbook: (name) => [WAITS, SHORT].find((r) => r.name === name),
  });
  rt.startWorker();
});

afterEach(async () => {
  for (const node of ['mls', 'rls-1', 'rls-2']) await onNode(fleet, node, 'DELETE FROM wait_flag');
  const lease = await rt.deps.lease.current(TOPOLOGY);
  if (lease) await rt.deps.lease.release(TOPOLOGY, lease.runId, lease.token);
});

afterAll(async () => {
  await rt.close();
  await dropPrefix(prefix);
  await fleet.destroy();
  await expectNoLeakedHandles(1000);
});

const step = async (runId: string, stepId: string) =>
  (await rt.deps.ledger.getSteps(runId)).find((s) => s.stepId === stepId);
const jobCounts = () => rt.deps.queue.pending();

async function start(runbook: string): Promise<string> {
  const outcome = await startRun(rt.deps, { topology: TOPOLOGY, runbook, target: null, requester: alice });
  if (outcome.kind !== 'started') throw new Error(`not started: ${JSON.stringify(outcome)}`);
  return outcome.run.id;
}

it('waits without holding a worker, goes on when the condition holds, and a checklist waits for every item', async () => {
  const runId = await start(WAITS.name);
  const waiting = await until('the first wait', async () => {
    const s = await step(runId, 'flag-on-master--mls');
    return s?.waitingSince ? s : undefined;
  });
  expect(waiting.state).toBe('pending'); // between checks nothing is running, so a crash cannot strand it
  expect((await rt.deps.ledger.getRun(runId))?.state).toBe('running');
  // Between checks the only job is a delayed one: no worker is busy with this run.
  const active = await activeJobs();
  expect(active).toBe(0);
  expect(await jobCounts()).toBeGreaterThanOrEqual(1);

  await onNode(fleet, 'mls', 'INSERT INTO wait_flag VALUES (1)');
  await onNode(fleet, 'rls-1', 'INSERT INTO wait_flag VALUES (1)');
  const list = await until('the checklist to show one item done', async () => {
    const s = await step(runId, 'flag-everywhere--mls');
    const items = s?.result?.checklist;
    return items?.some((i) => i.state === 'done') ? items : undefined;
  });
  expect(list.map((i) => [i.node, i.state])).toEqual([
    ['rls-1', 'done'],
    ['rls-2', 'pending'],
  ]);
  expect((await step(runId, 'flag-on-master--mls'))?.state).toBe('done');

  await onNode(fleet, 'rls-2', 'INSERT INTO wait_flag VALUES (1)');
  await until('the run to finish', async () => (await rt.deps.ledger.getRun(runId))?.state === 'done');
  const command = (await step(runId, 'read-lsn--mls'))?.result as StepResult;
  expect(command).toMatchObject({ ok: true, exitCode: 0, captured: { lsn: '0/3000060' } });
  expect(command.stderrTail).toContain('to-stderr');
  const audit = (await rt.deps.audit.read(runId)).map((e) => e.kind);
  // The wait is audited once when it starts waiting, not once per check.
  expect(audit.filter((k) => k === 'step-waiting')).toHaveLength(2);
});

it('an abort ends a waiting run at once and frees the topology; the delayed check finds it ended', async () => {
  const runId = await start(WAITS.name);
  await until('the wait', async () => (await step(runId, 'flag-on-master--mls'))?.waitingSince);
  await abort(rt.deps, runId, alice);
  expect((await rt.deps.ledger.getRun(runId))?.state).toBe('aborted');
  await until('the topology to be free', async () => (await rt.deps.lease.current(TOPOLOGY)) === null);
  await onNode(fleet, 'mls', 'INSERT INTO wait_flag VALUES (1)');
  await until('no job left', async () => (await jobCounts()) === 0, 5_000);
  expect((await step(runId, 'flag-on-master--mls'))?.state).toBe('pending');
});

it('a wait that never holds fails the run after its timeout, saying what it waited for', async () => {
  const runId = await start(SHORT.name);
  await until('the run to fail', async () => (await rt.deps.ledger.getRun(runId))?.state === 'failed');
  const s = await step(runId, 'flag-on-master--mls');
  expect(s?.state).toBe('failed');
  expect(s?.result?.error).toMatch(/still not satisfied after 1000 ms: ok is false/);
});

it("the terminal's follow does not ask whether a worker runs while a wait is between its checks", async () => {
  const out = { stdout: '', stderr: '' };
  const sink = (key: keyof typeof out) =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        out[key] += chunk.toString();
        done();
      },
    });
  const ctx = { env: {}, stdout: sink('stdout'), stderr: sink('stderr') } as unknown as CliContext;
  const runId = await start(WAITS.name);
  const followed = followRun(rt, ctx, runId);
  await until('the wait', async () => (await step(runId, 'flag-on-master--mls'))?.waitingSince);
  // Longer than the hint's 5 s without an event: the wait's delayed checks are a worker at work.
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  for (const node of ['mls', 'rls-1', 'rls-2']) await onNode(fleet, node, 'INSERT INTO wait_flag VALUES (1)');
  expect(await followed).toBe('done');
  expect(out.stdout).toContain('run finished');
  expect(out.stderr).not.toContain('is a worker running');
});

async function activeJobs(): Promise<number> {
  const queue = new Queue(RUN_QUEUE, { connection: redisOptionsFromUrl(serviceUrls().redisUrl), prefix });
  try {
    return (await queue.getJobCounts('active')).active ?? 0;
  } finally {
    await queue.close();
  }
}
