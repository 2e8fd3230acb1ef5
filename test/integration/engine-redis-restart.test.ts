import { approve } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { makeFreshlyRestored, systemRows } from '../helpers/coremedia-sql';
import { ownRedis, type OwnRedis } from '../helpers/own-redis';
import { configWithAccess, startTestEngine, waitForRunState, type TestEngine } from '../helpers/engine';

let redis: OwnRedis;
let fleet: Fleet;
let engine: TestEngine;

beforeAll(async () => {
  redis = await ownRedis([
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
  ]);
  await redis.start();
  fleet = await testFleet(
    'persist',
    [masterNode('postgres'), slaveNode('rls-1', 'mysql', 1042), slaveNode('rls-2', 'mysql', 1030)],
    'persist',
  );
  engine = await startTestEngine(configWithAccess(fleet, { approvers: ['bob'] }).config, 'recover', {
    redisUrl: redis.url,
  });
  expect(engine.warnings).toEqual([]);
  engine.startWorker();
});

afterAll(async () => {
  await engine?.close();
  await redis.destroy();
  await fleet?.destroy();
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

  await redis.stop();
  await redis.start();

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
