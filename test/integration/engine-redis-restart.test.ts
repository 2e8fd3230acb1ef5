import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { approve } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import { createFleet, type Fleet } from '../../src/fleet/fleet';
import { Scenario } from '../../src/fleet/scenario';
import { makeFreshlyRestored, systemRows } from '../helpers/coremedia-sql';
import { configWithAccess, startTestEngine, waitForRunState, type TestEngine } from '../helpers/engine';
import { closedPort } from '../helpers/blackhole';

// The shared Redis keeps nothing on disk, so this test runs its own with AOF on (PITFALLS: Redis).
const dir = mkdtempSync(join(tmpdir(), 'recover-redis-'));
let port: number;
let fleet: Fleet;
let engine: TestEngine;

async function startRedis(): Promise<void> {
  const child = spawn('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'yes',
    '--pidfile',
    join(dir, 'redis.pid'),
  ]);
  await new Promise((resolve) => child.on('exit', resolve));
  // --daemonize returns before the server listens: poll until it answers (bounded).
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      probe.disconnect();
    }
  }
}

async function stopRedis(): Promise<void> {
  // No retries: ioredis would otherwise resend SHUTDOWN after every reconnect attempt.
  const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
  await redis.call('SHUTDOWN').catch(() => undefined); // the connection drops as Redis exits
  redis.disconnect();
  await new Promise((resolve) => setTimeout(resolve, 300));
}

beforeAll(async () => {
  port = await closedPort();
  await startRedis();
  fleet = await createFleet(
    Scenario.parse({
      name: 'persist',
      master: 'mls',
      nodes: [
        { name: 'mls', engine: 'postgres', changelog: { last: 1050, count: 5 } },
        { name: 'rls-1', engine: 'mysql', replicator: { remote: 1042 }, changelog: { last: 1042, count: 5 } },
        { name: 'rls-2', engine: 'mysql', replicator: { remote: 1030 }, changelog: { last: 1030, count: 5 } },
      ],
    }),
    { prefix: `persist${process.pid}` },
  );
  engine = await startTestEngine(configWithAccess(fleet, { approvers: ['bob'] }).config, 'recover', {
    redisUrl: `redis://127.0.0.1:${port}`,
  });
  expect(engine.warnings).toEqual([]);
  engine.startWorker();
});

afterAll(async () => {
  await engine?.close();
  await stopRedis();
  await fleet?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

it('run state survives a Redis restart in the middle of a run', async () => {
  await makeFreshlyRestored(fleet, 'rls-2');
  const outcome = await startRun(engine.deps, {
    topology: 'persist',
    runbook: 'slave-from-master-sql',
    target: 'rls-2',
    requester: { id: 'alice' },
  });
  if (outcome.kind !== 'started') throw new Error('not started');
  const runId = outcome.run.id;
  await waitForRunState(engine, runId, ['awaiting-approval']);
  const before = await engine.deps.ledger.getSteps(runId);

  await stopRedis();
  await startRedis();

  // Connections come back by themselves; the ledger, the lease, the audit are all still there.
  expect((await engine.deps.ledger.getRun(runId))?.state).toBe('awaiting-approval');
  expect(await engine.deps.ledger.getSteps(runId)).toEqual(before);
  expect((await engine.deps.lease.current('persist'))?.runId).toBe(runId);
  for (;;) {
    const state = await waitForRunState(
      engine,
      runId,
      ['awaiting-approval', 'done', 'failed', 'halted'],
      20_000,
    );
    if (state !== 'awaiting-approval') break;
    await approve(engine.deps, { runId, approver: { id: 'bob' } });
  }
  expect((await engine.deps.ledger.getRun(runId))?.state).toBe('done');
  expect(await systemRows(fleet, 'rls-2')).toMatchObject({
    replicator_remote: '1030',
    repository_server_type: 'live',
  });
  expect((await engine.deps.audit.read(runId)).map((e) => e.kind)).toContain('start');
}, 60_000);
