import pg from 'pg';
import { serviceUrls } from '../../src/config/env';
import { approve, decide } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { makeFreshlyRestored, onNode, systemRows } from '../helpers/coremedia-sql';
import {
  configWithAccess,
  dropPrefix,
  startTestEngine,
  waitForRunState,
  type TestEngine,
} from '../helpers/engine';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

// Each test spawns the real CLI (TypeScript through tsx): on a loaded machine a start alone can
// take seconds. These are deadlines, not speed checks.
jest.setTimeout(180_000);

const prefix = `t-crash-${process.pid}`;
let fleet: Fleet;
let engine: TestEngine;
let configFile: string;
const workers: WorkerProcess[] = [];
const alice = { id: 'alice' };
const bob = { id: 'bob' };

beforeAll(async () => {
  fleet = await testFleet(
    'crash',
    [
      masterNode('postgres'),
      slaveNode('rls-1', 'postgres', 1042),
      slaveNode('rls-2', 'postgres', 1042),
      slaveNode('rls-3', 'postgres', 1030),
    ],
    'crash',
  );
  const written = configWithAccess(fleet, { approvers: ['bob'] });
  configFile = written.file;
  // This process only starts runs and approves; the workers are separate processes we can kill.
  engine = await startTestEngine(written.config, prefix);
});

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await engine.close();
  await dropPrefix(prefix);
  await fleet.destroy();
});

const worker = async () => {
  const w = await startWorkerProcess(configFile, {
    RECOVER_REDIS_PREFIX: prefix,
    REDIS_URL: serviceUrls().redisUrl,
    ...fleet.env,
  });
  workers.push(w);
  return w;
};

async function waitForStep(runId: string, stepId: string, state: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await engine.deps.ledger.getStep(runId, stepId))?.state === state) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${stepId} never became ${state}`);
}

async function startOnRls3() {
  await makeFreshlyRestored(fleet, 'rls-3');
  const outcome = await startRun(engine.deps, {
    topology: 'crash',
    runbook: 'slave-from-master-sql',
    target: 'rls-3',
    requester: alice,
  });
  if (outcome.kind !== 'started') throw new Error('not started');
  return outcome.run;
}

async function approveRest(runId: string): Promise<void> {
  for (;;) {
    const state = await waitForRunState(
      engine,
      runId,
      ['awaiting-approval', 'done', 'failed', 'halted', 'aborted'],
      30_000,
    );
    if (state !== 'awaiting-approval') return;
    await approve(engine.deps, { runId, approver: bob });
  }
}

it('a worker killed mid-step leaves the step unknown; its statement is cancelled, and nothing runs again until a human decides', async () => {
  const a = await worker();
  const run = await startOnRls3();
  await waitForRunState(engine, run.id, ['awaiting-approval']);

  // Hold a lock that blocks the INSERT (not the re-probe's reads), then kill the worker while it waits.
  const url = new URL(serviceUrls().fleetPostgresUrl);
  url.pathname = `/${fleet.databases.find((d) => d.node === 'rls-3')!.database}`;
  const locker = new pg.Client({ connectionString: url.toString() });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE system IN SHARE MODE');
  await approve(engine.deps, { runId: run.id, approver: bob });
  await waitForStep(run.id, 'insert-replicator-remote--rls-3', 'running');
  a.child.kill('SIGKILL');
  expect(await a.exited).toBe('SIGKILL');

  // A new worker picks the stalled job up, finds the step "running": before it says the outcome is
  // unknown, the dead attempt's INSERT (still waiting on the lock) is ended on the server.
  await worker();
  expect(await waitForRunState(engine, run.id, ['halted'], 60_000)).toBe('halted');
  const step = await engine.deps.ledger.getStep(run.id, 'insert-replicator-remote--rls-3');
  expect(step).toMatchObject({ state: 'unknown', attempts: 1 });
  expect((await engine.deps.ledger.getRun(run.id))?.reason).toMatch(/outcome unknown.*rls-3 holds/);
  await locker.query('ROLLBACK');
  await locker.end();
  // The lock is gone, and still nothing committed behind the humans' backs.
  await new Promise((resolve) => setTimeout(resolve, 1500)); // a worker must not move on by itself
  expect((await engine.deps.ledger.getRun(run.id))?.state).toBe('halted');
  const remoteRows = await onNode(
    fleet,
    'rls-3',
    "SELECT content FROM system WHERE property = 'replicator_remote'",
  );
  expect(remoteRows).toEqual([]);

  // The human looks: no row, so retry; the destructive step needs a fresh approval, then it runs once.
  await decide(engine.deps, run.id, 'insert-replicator-remote--rls-3', 'retry', alice);
  await approveRest(run.id);
  expect((await engine.deps.ledger.getRun(run.id))?.state).toBe('done');
  expect(await systemRows(fleet, 'rls-3')).toMatchObject({
    replicator_remote: '1030',
    replicator_local: '1030',
    replicator_tag: 'tag-1030',
    repository_server_type: 'live',
  });
  const events = await engine.deps.audit.read(run.id);
  expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['halt', 'decision']));
  const starts = events.filter((e) => e.kind === 'step-start').map((e) => e.stepId);
  expect(starts.filter((id) => id === 'insert-replicator-remote--rls-3')).toHaveLength(2);
  expect(starts).toHaveLength(7);
}, 180_000);

it('a worker killed while a run waits for approval: approving later lets a new worker go on', async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  const a = await worker();
  const run = await startOnRls3();
  await waitForRunState(engine, run.id, ['awaiting-approval']);
  a.child.kill('SIGKILL');
  await a.exited;
  await approve(engine.deps, { runId: run.id, approver: bob });
  await worker();
  await approveRest(run.id);
  expect((await engine.deps.ledger.getRun(run.id))?.state).toBe('done');
  expect((await systemRows(fleet, 'rls-3')).repository_server_type).toBe('live');
}, 180_000);

it('SIGTERM stops a worker cleanly', async () => {
  const w = await worker();
  w.child.kill('SIGTERM');
  expect(await w.exited).toBe(0);
  expect(w.output()).toContain('worker stopping');
}, 180_000);
