import { readFileSync, writeFileSync } from 'node:fs';
import type { EngineRuntime } from '../../src/app/engine-runtime';
import { startRun } from '../../src/engine/start';
import { PlanError } from '../../src/runbook/resolve';
import { approveNext, driveToEnd, settled } from '../helpers/pg-runs';
import { startTungstenCluster, type TsimCluster } from '../helpers/tsim/cluster';
import { tsimSsh } from '../helpers/tsim/ssh-cli';
import { startHost2Restore, tungstenRunHooks } from '../helpers/tungsten-run-hooks';
import { until } from '../helpers/until';

/**
 * The faults of SYSTEMS.md §3.4 on the tsim simulator, through the real engine. Each run stops
 * with the refusal or failure that names the fault, and nothing destructive runs after it.
 */
jest.setTimeout(120_000);

const prefix = `t-tgft-${process.pid}`;
const alice = { id: 'alice' };
const h = tungstenRunHooks(prefix);

async function seeded(rows = 5): Promise<TsimCluster> {
  const c = (h.cluster = await startTungstenCluster({ replicas: 2 }));
  await c.write('CREATE DATABASE app');
  await c.write('CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))');
  await writes(c, 1, rows);
  return c;
}

async function writes(c: TsimCluster, from: number, to: number) {
  let last = { seqno: 0, position: '' };
  for (let i = from; i <= to; i++) last = await c.write('INSERT INTO app.t VALUES (?, ?)', [i, `v${i}`]);
  await c.waitForCatchUp();
  return last;
}

/** A backup of the primary taken while its trep row lags its binlog (the docs' case: a reset is needed). */
async function laggingPrimaryBackup(c: TsimCluster) {
  await c.faults.holdPrimaryTrep(true);
  await writes(c, 100, 103);
  const backup = await c.backup('host1');
  await c.faults.holdPrimaryTrep(false);
  await writes(c, 104, 110);
  return backup;
}

const start = (c: TsimCluster, backup: { file: string }, from: 'primary' | 'replica') =>
  startHost2Restore(h, prefix, c, backup, from);

/** State of each step template on its node. */
async function states(engine: EngineRuntime, runId: string): Promise<Record<string, string>> {
  const steps = await engine.deps.ledger.getSteps(runId);
  return Object.fromEntries(steps.map((s) => [s.stepId.split('--')[0]!, s.state]));
}

const NOT_RUN = ['dsctl-reset', 'recover', 'wait-online', 'canary-write'];

async function expectStoppedAt(engine: EngineRuntime, runId: string, reason: RegExp, notRun = NOT_RUN) {
  const end = await driveToEnd(engine, runId);
  expect(end.state).toBe('failed');
  expect(end.reason).toMatch(reason);
  const s = await states(engine, runId);
  for (const step of notRun) expect([step, s[step]]).toEqual([step, 'pending']);
  return end;
}

const editFile = (file: string, edit: (text: string) => string) =>
  writeFileSync(file, edit(readFileSync(file, 'utf8')));

it('missing tungsten schema: the restored data has no trep_commit_seqno, refused before any reset or recover', async () => {
  const c = await seeded();
  const backup = await c.backup('host2', { withoutTungstenSchema: true });
  const { engine, runId } = await start(c, backup, 'replica');
  await expectStoppedAt(
    engine,
    runId,
    /compare--host2: refused \[no-tungsten-schema\]: .*did not include the tungsten schema/,
  );
  expect(c.manager.state('host2').kind).toBe('SHUNNED'); // left shunned: no traffic to a replica without a restart point
});

it("wrong epoch: a restored row whose epoch is not the THL's is refused (the handshake would fail)", async () => {
  const c = await seeded();
  const backup = await c.backup('host2');
  editFile(backup.file, (t) =>
    t.replace(/(INSERT INTO `trep_commit_seqno` VALUES\s*\(0,\d+,-?\d+,'?\d'?,'[^']*',)(\d+)/, '$199'),
  );
  const { engine, runId } = await start(c, backup, 'replica');
  await expectStoppedAt(
    engine,
    runId,
    /reset-values--host1: refused \[epoch-mismatch\]: the restored epoch 99 is not the THL's EPOCH# 0/,
  );
});

it('wrong epoch at the handshake: recover fails, and the status names "Log epoch numbers do not match"', async () => {
  const c = await seeded();
  const backup = await c.backup('host2');
  await c.faults.wrongEpochOnNextHandshake('host2', 42);
  const { engine, runId } = await start(c, backup, 'replica');
  await expectStoppedAt(engine, runId, /recover--host2: recovery is FAILED, not WAS SUCCESSFUL/, [
    'wait-online',
    'canary-write',
  ]);
  const report = await engine.deps.inspect(engine.deps.config.topologies[0]!);
  expect(report.warnings.map((w) => w.message).join('\n')).toMatch(
    /host2: replicator OFFLINE:ERROR \(Client handshake failure: .*Log epoch numbers do not match/,
  );
});

it('approximate event: a backup position between two events is refused, never rounded', async () => {
  const c = await seeded();
  const backup = await laggingPrimaryBackup(c);
  editFile(backup.file, (t) =>
    t.replace(/MASTER_LOG_POS=(\d+)/, (_, p: string) => `MASTER_LOG_POS=${Number(p) - 1}`),
  );
  const { engine, runId } = await start(c, backup, 'primary');
  await expectStoppedAt(
    engine,
    runId,
    /reset-values--host1: refused \[approximate-event\]: .*Approximative match/,
  );
});

it('purged THL: the primary no longer holds seqno+1, refused with a re-provision hint', async () => {
  const c = await seeded();
  const backup = await c.backup('host2');
  const last = await writes(c, 6, 15);
  await c.faults.purgePrimaryThlBelow(last.seqno);
  const { engine, runId } = await start(c, backup, 'replica');
  await expectStoppedAt(
    engine,
    runId,
    /refused \[thl-purged\]: the primary's THL starts at seqno \d+, past \d+ .*re-provision/,
  );
});

it('purge while ONLINE: the replicator came back online before the purge; the script refuses and the THL stays', async () => {
  const c = await seeded();
  const backup = await c.backup('host2');
  const { engine, runId } = await start(c, backup, 'replica');
  expect((await settled(engine, runId)).state).toBe('awaiting-approval'); // gate purge-thl
  const ssh = tsimSsh(c);
  try {
    expect((await ssh.run('host2', 'trepctl', ['-service', 'alpha', 'online'])).code).toBe(0);
    await until('host2 ONLINE again', async () => c.replicatorState('host2') === 'ONLINE');
    await expectStoppedAt(
      engine,
      runId,
      /purge-thl--host2: exit 3: refusing to purge the THL: the replicator is ONLINE, not OFFLINE:NORMAL/,
      ['restore', ...NOT_RUN],
    );
    const info = await ssh.run('host2', 'thl', ['-service', 'alpha', 'info']);
    expect(info.stdout).toMatch(/min seq# = \d+/);
  } finally {
    await ssh.close();
  }
});

it("primary failed over mid-procedure: the approval is voided, and the new primary's THL is refused as another source", async () => {
  const c = await seeded();
  const backup = await c.backup('host2');
  const { engine, runId } = await start(c, backup, 'replica');
  expect((await settled(engine, runId)).state).toBe('awaiting-approval');
  expect(await approveNext(engine, runId)).toBe('purge-thl');
  expect((await settled(engine, runId)).state).toBe('awaiting-approval'); // gate restore
  await c.faults.failover('host3');
  await approveNext(engine, runId);
  await until('the approval to be voided', async () =>
    (await engine.deps.audit.read(runId)).some((e) => e.kind === 'approval-void'),
  );
  const voided = (await engine.deps.audit.read(runId)).find((e) => e.kind === 'approval-void')!;
  expect(voided.summary).toMatch(/primary host1 → host3.*the approval is void/);
  expect((await states(engine, runId)).restore).not.toBe('done');
  // A second look, a second approval: the re-plan reads host3's THL, whose events came from host1.
  await expectStoppedAt(
    engine,
    runId,
    /reset-values--host3: refused \[wrong-source\]: the event's SOURCEID host1 is not the primary's source id host3/,
  );
});

it('crash inside dsctl set -reset (table dropped, nothing set): recover never runs; a new run restores cleanly', async () => {
  const c = await seeded();
  const backup = await laggingPrimaryBackup(c);
  await c.faults.crashAfterDsctlReset('host2');
  const first = await start(c, backup, 'primary');
  await expectStoppedAt(first.engine, first.runId, /dsctl-reset--host2: exit 137/, [
    'recover',
    'wait-online',
    'canary-write',
  ]);
  await expect(c.mysql('host2', 'SELECT * FROM tungsten_alpha.trep_commit_seqno')).rejects.toThrow(
    /doesn't exist/,
  );

  const again = await startRun(first.engine.deps, {
    topology: 'tfleet',
    runbook: 'tungsten-external-restore',
    target: 'host2',
    requester: alice,
  });
  if (again.kind !== 'started') throw new Error(again.kind);
  expect(await driveToEnd(first.engine, again.run.id)).toMatchObject({ state: 'done' });
  expect(c.replicatorState('host2')).toBe('ONLINE');
});

it('manager unreachable: the cluster view is unknown and no plan is made', async () => {
  const c = await seeded();
  const backup = await c.backup('host2');
  await c.faults.stopManager();
  const started = startHost2Restore(h, prefix, c, backup, 'replica');
  await expect(started).rejects.toThrow(PlanError);
  await expect(started).rejects.toThrow(
    /the manager cannot be asked \(cctrl ls: .*Unable to connect to the manager.*\[cluster-unknown\]/,
  );
});

it('5.x tools (no thl list -event, no dsctl set -reset): the version check refuses the plan', async () => {
  const c = (h.cluster = await startTungstenCluster({ replicas: 1, thlVersion: '5' }));
  await c.write('CREATE DATABASE app');
  const backup = await c.backup('host2');
  const started = startHost2Restore(h, prefix, c, backup, 'replica');
  await expect(started).rejects.toThrow(
    /thl on host1 has no "list -event".*\[cli-too-old\]; dsctl on host2 does not take "set -reset".*\[cli-too-old\]/,
  );
});
