import type { EngineRuntime } from '../../src/app/engine-runtime';
import { planFor, startRun } from '../../src/engine/start';
import { PlanError } from '../../src/runbook/resolve';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster';
import { approveNext, driveToEnd, pgEngine, settled, stepResult, until } from '../helpers/pg-runs';
import { pgTopology } from '../helpers/pg-topology';
import { pgRunHooks } from '../helpers/pg-run-hooks';

/**
 * Issue 12: postgres-switchover end to end on a real primary and two standbys, steps over a real
 * sshd, through the real engine, two people: zero loss, or refuse with the old primary stopped.
 */
jest.setTimeout(240_000);

const prefix = `t-pgso-${process.pid}`;
const alice = { id: 'alice' };
const h = pgRunHooks(prefix);

const count = async (c: PgCluster, node: string) =>
  Number((await c.psql(node, 'SELECT count(*) AS n FROM t'))[0]?.n);

it('switches over to a standby without losing a row; the old primary streams from the new one on its own port', async () => {
  const c = (h.cluster = await startPgCluster({ standbys: 2 }));
  await c.psql(c.primary, 'CREATE TABLE t (id int)');
  await c.psql(c.primary, 'INSERT INTO t SELECT generate_series(1, 1000)');
  await c.waitForCatchUp();
  const topology = pgTopology(c, { sshd: h.sshd });
  const engine = (h.rt = await pgEngine(topology, prefix));

  const outcome = await startRun(engine.deps, {
    topology: topology.name,
    runbook: 'postgres-switchover',
    target: 'pg2',
    requester: alice,
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  const where = (id: string) => outcome.plan.steps.filter((s) => s.templateId === id).map((s) => s.node);
  expect(where('stop-primary')).toEqual(['pg1']);
  expect(where('promote')).toEqual(['pg2']);
  expect(where('repoint')).toEqual(['pg3']);
  expect(where('rewind-old-primary')).toEqual(['pg1']);
  expect(outcome.plan.steps.filter((s) => s.risk === 'destructive').map((s) => s.gate)).toEqual([
    'stop-primary',
    'promote',
    'rebuild',
  ]);

  // Writes up to the moment the primary stops: some are still in flight to the standbys.
  expect((await settled(engine, outcome.run.id)).state).toBe('awaiting-approval');
  await c.psql('pg1', 'INSERT INTO t SELECT generate_series(1001, 21000)');
  const before = await count(c, 'pg1');
  expect(before).toBe(21000);

  const { state, gates, reason } = await driveToEnd(engine, outcome.run.id);
  expect({ state, reason }).toEqual({ state: 'done', reason: null });
  expect(gates).toEqual(['stop-primary', 'promote', 'rebuild']);
  const checkpoint = (await stepResult(engine, outcome.run.id, 'last-checkpoint'))?.result?.captured;
  expect(checkpoint).toMatchObject({
    clusterState: 'shut down',
    checkpoint: expect.stringMatching(/^[0-9A-F]+\//),
  });

  // Zero loss: the new primary has every row the old one had, and takes writes on timeline 2.
  expect(await c.psql('pg2', 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: false }]);
  expect(await count(c, 'pg2')).toBe(before);
  expect((await stepResult(engine, outcome.run.id, 'read-timeline'))?.result?.captured.timeline).toBe('2');
  await c.psql('pg2', 'INSERT INTO t VALUES (21001)');
  // It archives at once (a second failure must not lose what it writes).
  expect(await c.psql('pg2', 'SELECT archived_count > 0 AS ok FROM pg_stat_archiver')).toEqual([
    { ok: true },
  ]);

  // The old primary is a standby of pg2 with its own port; pg3 streams from pg2 too.
  for (const standby of ['pg1', 'pg3']) {
    expect(
      await c.psql(standby, 'SELECT pg_is_in_recovery() AS r, current_setting($1) AS port', ['port']),
    ).toEqual([{ r: true, port: String(c.node(standby).port) }]);
    expect(
      await c.psql(standby, 'SELECT status, received_tli, sender_port FROM pg_stat_wal_receiver'),
    ).toEqual([{ status: 'streaming', received_tli: 2, sender_port: c.node('pg2').port }]);
    await until(`${standby} to replay the new row`, async () => (await count(c, standby)) === before + 1);
  }
  const token = (await stepResult(engine, outcome.run.id, 'canary-write'))?.result?.captured.token;
  expect(await c.psql('pg1', 'SELECT count(*) AS n FROM recover_canary WHERE token = $1', [token])).toEqual([
    { n: '1' },
  ]);
});

async function oneStandby(): Promise<{ c: PgCluster; engine: EngineRuntime; topology: string }> {
  const c = (h.cluster = await startPgCluster({ standbys: 1 }));
  await c.psql(c.primary, 'CREATE TABLE t (id int)');
  await c.psql(c.primary, 'INSERT INTO t SELECT generate_series(1, 100)');
  await c.waitForCatchUp();
  const topology = pgTopology(c, { sshd: h.sshd });
  return { c, engine: (h.rt = await pgEngine(topology, prefix)), topology: topology.name };
}

const receivers = async (c: PgCluster, node: string) =>
  (await c.psql(node, 'SELECT count(*) AS n FROM pg_stat_wal_receiver'))[0]?.n;

it('refuses before stopping anything: paused, primary or non-streaming target; a target that stops streaming before the stop voids the approval', async () => {
  const { c, engine, topology } = await oneStandby();
  const refusal = (target: string) =>
    planFor(engine.deps, topology, 'postgres-switchover', target).then(
      () => 'planned',
      (e: unknown) => (e instanceof PlanError ? `${e.code}: ${e.message}` : String(e)),
    );
  // Someone paused replay on purpose: not Recover's to resume.
  await c.pauseReplay('pg2');
  expect(await refusal('pg2')).toMatch(/^refused: no switchover to pg2: its WAL replay is paused/);
  await c.resumeReplay('pg2');
  expect(await refusal('pg1')).toMatch(/^refused: no switchover to pg1: it is not a standby that answers/);
  await c.cutStreaming('pg2');
  await until('pg2 to stop streaming', async () => (await receivers(c, 'pg2')) === '0');
  expect(await refusal('pg2')).toMatch(/^refused: no switchover to pg2: it is not streaming/);
  // (RESET would drop the conninfo pg_basebackup -R wrote to postgresql.auto.conf: set it again.)
  await c.psql('pg2', `ALTER SYSTEM SET primary_conninfo = '${c.primary.conninfo}'`);
  await c.psql('pg2', 'SELECT pg_reload_conf()');
  await until('pg2 to stream again', async () => (await receivers(c, 'pg2')) === '1');

  // Planned while pg2 streamed; streaming breaks while the stop waits for approval.
  const outcome = await startRun(engine.deps, {
    topology,
    runbook: 'postgres-switchover',
    target: 'pg2',
    requester: alice,
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  expect((await settled(engine, outcome.run.id)).state).toBe('awaiting-approval');
  await c.cutStreaming('pg2');
  await until('pg2 to stop streaming', async () => (await receivers(c, 'pg2')) === '0');
  await approveNext(engine, outcome.run.id);
  const run = await settled(engine, outcome.run.id);
  expect(run.state).toBe('halted');
  expect(run.reason).toMatch(/pg2: streaming from pg1 → not streaming \(zero loss could not be proven\)/);
  expect(run.reason).toMatch(/no new plan can be made: .*no switchover to pg2: it is not streaming/);
  // The primary was never stopped and still takes writes.
  expect((await stepResult(engine, outcome.run.id, 'stop-primary'))?.state ?? 'pending').not.toBe('done');
  await c.psql('pg1', 'INSERT INTO t VALUES (101)');
  expect(await count(c, 'pg1')).toBe(101);
});

it('fails with "zero loss could not be proven" when the target cannot replay the last checkpoint: nothing promoted, the old primary left stopped', async () => {
  const { c, engine, topology } = await oneStandby();
  const outcome = await startRun(engine.deps, {
    topology,
    runbook: 'postgres-switchover',
    target: 'pg2',
    requester: alice,
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  expect((await settled(engine, outcome.run.id)).state).toBe('awaiting-approval');
  // pg2 still streams (so nothing drifts) but replays nothing more: it cannot reach the checkpoint.
  await c.pauseReplay('pg2');
  await c.psql('pg1', 'INSERT INTO t SELECT generate_series(101, 200)');
  expect(await approveNext(engine, outcome.run.id)).toBe('stop-primary');

  const run = await settled(engine, outcome.run.id, 150_000);
  expect(run.state).toBe('failed');
  expect(run.reason).toMatch(
    /^zero-loss--pg2: Zero loss could not be proven: pg2 never replayed pg1's last checkpoint, so nothing was promoted\. pg1 is left STOPPED/,
  );
  expect((await stepResult(engine, outcome.run.id, 'promote'))?.state ?? 'pending').toBe('pending');
  expect(c.isRunning('pg1')).toBe(false);
  expect(await c.psql('pg2', 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);

  // Nothing was lost: pg1 stopped cleanly and comes back with every row.
  await c.start('pg1');
  expect(await count(c, 'pg1')).toBe(200);
});
