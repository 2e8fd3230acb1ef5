import { driveToEnd, stepResult } from '../helpers/pg-runs';
import { startTungstenCluster, type TsimCluster } from '../helpers/tsim/cluster';
import { startHost2Restore, tungstenRunHooks } from '../helpers/tungsten-run-hooks';

/**
 * Seed 004 end to end on the tsim simulator (real MariaDB and sshd per host): the runbook
 * restores a replica from an external backup through the real engine, a second person approving
 * each destructive step; the replica ends ONLINE, caught up, with the canary row.
 */
jest.setTimeout(120_000);

const prefix = `t-tgrs-${process.pid}`;
const h = tungstenRunHooks(prefix);

async function seeded(rows: number): Promise<TsimCluster> {
  const c = (h.cluster = await startTungstenCluster({ replicas: 2 }));
  await c.write('CREATE DATABASE app');
  await c.write('CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))');
  for (let i = 1; i <= rows; i++) await c.write('INSERT INTO app.t VALUES (?, ?)', [i, `v${i}`]);
  await c.waitForCatchUp();
  return c;
}

const count = async (c: TsimCluster, host: string) =>
  Number(((await c.mysql(host, 'SELECT COUNT(*) AS n FROM app.t')) as { n: number }[])[0]?.n);
const trepSeqno = async (c: TsimCluster, host: string) =>
  ((await c.mysql(host, 'SELECT seqno FROM tungsten_alpha.trep_commit_seqno')) as { seqno: number }[]).map(
    (r) => Number(r.seqno),
  );

async function restore(c: TsimCluster, backup: { file: string }, from: 'primary' | 'replica') {
  const { engine, runId } = await startHost2Restore(h, prefix, c, backup, from);
  return { engine, runId, ...(await driveToEnd(engine, runId)) };
}

it('a replica restored from its own backup taken while it was behind: no reset, ONLINE, caught up, canary there', async () => {
  const c = await seeded(10);
  const backup = await c.backup('host2');
  for (let i = 11; i <= 30; i++) await c.write('INSERT INTO app.t VALUES (?, ?)', [i, `v${i}`]);
  await c.waitForCatchUp();

  const run = await restore(c, backup, 'replica');
  expect(run).toMatchObject({ state: 'done', gates: ['purge-thl', 'restore'] });
  const compare = await stepResult(run.engine, run.runId, 'compare');
  expect(compare?.result?.captured.decision).toBe('no-reset');
  expect(await stepResult(run.engine, run.runId, 'dsctl-reset')).toMatchObject({ state: 'skipped' });
  expect(c.replicatorState('host2')).toBe('ONLINE');
  expect(await count(c, 'host2')).toBe(30);
  const token = (await stepResult(run.engine, run.runId, 'canary-token'))?.result?.captured.token;
  expect(
    await c.mysql('host2', 'SELECT COUNT(*) AS n FROM app.recover_canary WHERE token = ?', [token]),
  ).toEqual([{ n: 1 }]);
  await c.waitForCatchUp();
  expect(await trepSeqno(c, 'host2')).toEqual(await trepSeqno(c, 'host1'));
});

it("a backup of the primary whose trep row lags its binlog: reset to the primary's THL header for the backup's position", async () => {
  const c = await seeded(5);
  // The docs' case: the primary's trep_commit_seqno is behind its binlog when the backup is taken.
  await c.faults.holdPrimaryTrep(true);
  let last = { seqno: 0, position: '' };
  for (let i = 6; i <= 9; i++) last = await c.write('INSERT INTO app.t VALUES (?, ?)', [i, `v${i}`]);
  const backup = await c.backup('host1');
  expect(backup.position).toBe(last.position);
  await c.faults.holdPrimaryTrep(false);
  for (let i = 10; i <= 20; i++) await c.write('INSERT INTO app.t VALUES (?, ?)', [i, `v${i}`]);
  await c.waitForCatchUp();

  const run = await restore(c, backup, 'primary');
  expect(run).toMatchObject({ state: 'done', gates: ['purge-thl', 'restore', 'dsctl-reset'] });
  const values = (await stepResult(run.engine, run.runId, 'reset-values'))?.result?.captured;
  expect(values).toMatchObject({
    decision: 'reset',
    seqno: String(last.seqno),
    epoch: '0',
    sourceId: 'host1',
  });
  const dsctl = await stepResult(run.engine, run.runId, 'dsctl-reset');
  expect(dsctl?.result?.captured.position).toContain(`seqno=${last.seqno} epoch_number=0`);
  expect(c.replicatorState('host2')).toBe('ONLINE');
  // Nothing re-applied (no duplicate key), nothing skipped.
  expect(await count(c, 'host2')).toBe(20);
  await c.waitForCatchUp();
  expect(await trepSeqno(c, 'host2')).toEqual(await trepSeqno(c, 'host1'));
});
