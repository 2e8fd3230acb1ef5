import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import YAML from 'yaml';
import { serviceUrls } from '../../src/config/env';
import { RecoverConfig } from '../../src/config/topology';
import { approve, decide } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import { dropPrefix, startTestEngine, waitForRunState, type TestEngine } from '../helpers/engine';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { startTungstenCluster, type TsimCluster } from '../helpers/tsim/cluster';
import { tungstenTopology } from '../helpers/tungsten-topology';
import { until } from '../helpers/until';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

/**
 * A worker killed while `dsctl set -reset` runs (between the reset and the recover): the step's
 * outcome is unknown, the run halts and nothing runs until a human decides; `set -reset` is
 * idempotent, so a retry (approved again) finishes the restore.
 */
jest.setTimeout(180_000);

const prefix = `t-tgcr-${process.pid}`;
const alice = { id: 'alice' };
const bob = { id: 'bob' };
let cluster: TsimCluster | undefined;
let engine: TestEngine | undefined;
const workers: WorkerProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'recover-tgcr-'));

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await engine?.close();
  await cluster?.close();
  await dropPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
  await expectNoLeakedHandles(1000);
});

it('a worker killed inside dsctl set -reset: halted, outcome unknown, recover not run; retry finishes', async () => {
  const c = (cluster = await startTungstenCluster({ replicas: 2 }));
  await c.write('CREATE DATABASE app');
  await c.write('CREATE TABLE app.t (id INT PRIMARY KEY)');
  for (let i = 1; i <= 3; i++) await c.write('INSERT INTO app.t VALUES (?)', [i]);
  await c.faults.holdPrimaryTrep(true); // the primary's trep row lags its binlog: a reset is needed
  for (let i = 4; i <= 6; i++) await c.write('INSERT INTO app.t VALUES (?)', [i]);
  const backup = await c.backup('host1');
  await c.faults.holdPrimaryTrep(false);
  for (let i = 7; i <= 10; i++) await c.write('INSERT INTO app.t VALUES (?)', [i]);
  await c.waitForCatchUp();

  const topology = tungstenTopology(c, {
    backups: { host2: { kind: 'dump', path: backup.file, from: 'primary' } },
  });
  const config = RecoverConfig.parse({
    topologies: [{ ...topology, access: { approvers: ['bob'] }, monitor: { enabled: false } }],
  });
  const file = join(dir, 'recover.yaml');
  writeFileSync(file, YAML.stringify(config));
  const worker = async () => {
    const w = await startWorkerProcess(file, {
      RECOVER_REDIS_PREFIX: prefix,
      REDIS_URL: serviceUrls().redisUrl,
    });
    workers.push(w);
    return w;
  };
  // This process starts the run and approves; the worker is a process we can kill.
  engine = await startTestEngine(config, prefix);
  const first = await worker();
  const outcome = await startRun(engine.deps, {
    topology: topology.name,
    runbook: 'tungsten-external-restore',
    target: 'host2',
    requester: alice,
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  const runId = outcome.run.id;
  for (const gate of ['purge-thl', 'restore']) {
    expect(await waitForRunState(engine, runId, ['awaiting-approval'], 60_000)).toBe('awaiting-approval');
    expect((await approve(engine.deps, { runId, approver: bob })).gate).toBe(gate);
  }
  expect(await waitForRunState(engine, runId, ['awaiting-approval'], 60_000)).toBe('awaiting-approval');

  // dsctl on host2 takes a while this time: long enough to kill the worker in the middle of it.
  const dsctl = join(c.hosts.find((x) => x.name === 'host2')!.binDir, 'dsctl');
  const original = readFileSync(dsctl, 'utf8');
  writeFileSync(dsctl, original.replace(/^exec /m, 'sleep 3\nexec '));
  await approve(engine.deps, { runId, approver: bob });
  await until(
    'dsctl-reset to run',
    async () => (await engine!.deps.ledger.getStep(runId, 'dsctl-reset--host2'))?.state === 'running',
    30_000,
  );
  first.child.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  writeFileSync(dsctl, original);

  await worker();
  expect(await waitForRunState(engine, runId, ['halted'], 60_000)).toBe('halted');
  expect(await engine.deps.ledger.getStep(runId, 'dsctl-reset--host2')).toMatchObject({ state: 'unknown' });
  expect(await engine.deps.ledger.getStep(runId, 'recover--host2')).toMatchObject({ state: 'pending' });
  // The halt says what host2 holds now and which choice is safe, in Tungsten's terms only.
  const reason = (await engine.deps.ledger.getRun(runId))?.reason ?? '';
  expect(reason).not.toMatch(/changelog|ReplicatorIdTable/);
  expect(reason).toMatch(
    /host2: its trep_commit_seqno reads seqno \d+, epoch \d+, event mysql-bin\.\d+:\d+(;-?\d+)?, source host1; replicator [A-Z:]+\. dsctl set -reset replaces that row with the same values each time, so retry is safe/,
  );
  expect(c.replicatorState('host2')).not.toBe('ONLINE');

  // The human retries: dsctl set -reset drops whatever is there and sets the THL's values again.
  await decide(engine.deps, runId, 'dsctl-reset--host2', 'retry', alice);
  expect(await waitForRunState(engine, runId, ['awaiting-approval'], 60_000)).toBe('awaiting-approval');
  await approve(engine.deps, { runId, approver: bob });
  expect(await waitForRunState(engine, runId, ['done', 'failed', 'halted'], 90_000)).toBe('done');
  expect(c.replicatorState('host2')).toBe('ONLINE');
  expect(await c.mysql('host2', 'SELECT COUNT(*) AS n FROM app.t')).toEqual([{ n: 10 }]);
});
