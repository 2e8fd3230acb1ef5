import { DbRegistry } from '../../src/db/connect';
import { inspectPostgres } from '../../src/flavours/postgres-streaming/probe';
import { HostExecutors } from '../../src/hosts/executors';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster';
import { loadDatabase } from '../helpers/pg-load';
import { setupRepmgr } from '../helpers/pg-repmgr';
import { pgTopology } from '../helpers/pg-topology';

jest.setTimeout(120_000);

let cluster: PgCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});
afterAll(() => expectNoLeakedHandles());

it('the loader grows the primary to the requested size and the standby replicates it', async () => {
  cluster = await startPgCluster({ standbys: 1 });
  const result = await loadDatabase(cluster, { bytes: 48 * 1024 * 1024, chunkRows: 20_000 });
  console.log(`loaded ${result.rows} rows, ${result.bytes} bytes in ${result.ms} ms`);

  expect(result.bytes).toBeGreaterThanOrEqual(48 * 1024 * 1024);
  await cluster.waitForCatchUp(60_000);
  const [row] = await cluster.psql('pg2', 'SELECT count(*)::int AS n, max(length(pad)) AS pad FROM bench');
  expect(row).toEqual({ n: result.rows, pad: 896 });
});

it('repmgr baseline: standby promote + standby follow leave one primary on timeline 2, followed', async () => {
  cluster = await startPgCluster({ standbys: 2 });
  const repmgr = await setupRepmgr(cluster);
  await cluster.psql(cluster.primary, 'CREATE TABLE t (id int)');
  await cluster.psql(cluster.primary, 'INSERT INTO t SELECT generate_series(1, 1000)');
  await cluster.waitForCatchUp();
  await cluster.crash('pg1');

  expect(await repmgr.promoteManually('pg2')).toMatch(/STANDBY PROMOTE successful/);
  expect(await repmgr.followManually('pg3', 'pg2')).toMatch(/STANDBY FOLLOW successful/);
  await cluster.psql('pg2', 'INSERT INTO t VALUES (1001)');

  // Observed through Recover's own probe: pg2 primary on TL 2, pg3 streaming from it.
  const topology = pgTopology(cluster);
  const dbs = new DbRegistry();
  const hosts = new HostExecutors(); // no node has a host here: nothing is opened
  const deadline = Date.now() + 15_000;
  let pg3;
  try {
    for (;;) {
      const report = await inspectPostgres(topology, {
        db: (n) => dbs.get(n, topology.name),
        host: (n) => hosts.get(n),
      });
      expect(report.nodes.find((n) => n.name === 'pg2')).toMatchObject({ role: 'primary', timeline: 2 });
      pg3 = report.nodes.find((n) => n.name === 'pg3');
      if ((pg3?.streaming && pg3.timeline === 2) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await Promise.all([dbs.closeAll(), hosts.closeAll()]);
  }
  expect(pg3).toMatchObject({ role: 'standby', streaming: true, timeline: 2, upstream: 'pg2' });
  const [row] = await cluster.psql('pg3', 'SELECT count(*)::int AS n FROM t');
  expect(row).toEqual({ n: 1001 });
});
