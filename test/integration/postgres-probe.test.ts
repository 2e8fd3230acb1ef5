import type { Topology } from '../../src/config/topology';
import { DbRegistry } from '../../src/db/connect';
import { HostExecutors } from '../../src/hosts/executors';
import { inspectPostgres } from '../../src/flavours/postgres-streaming/probe';
import type { PostgresNodeStatus, PostgresReport } from '../../src/flavours/postgres-streaming/report';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster';
import { pgTopology } from '../helpers/pg-topology';
import { startSshd, type TestSshd } from '../helpers/sshd';

jest.setTimeout(90_000);

let sshd: TestSshd;
let cluster: PgCluster | undefined;

beforeAll(async () => {
  sshd = await startSshd();
});
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});
afterAll(async () => {
  await sshd.stop();
  await expectNoLeakedHandles();
});

/** One inspection with its own pools and SSH connections, all closed after: nothing is reused across faults. */
async function inspect(topology: Topology): Promise<PostgresReport> {
  const dbs = new DbRegistry();
  const hosts = new HostExecutors();
  try {
    return await inspectPostgres(topology, {
      db: (n) => dbs.get(n, topology.name),
      host: (n) => hosts.get(n),
    });
  } finally {
    await Promise.all([dbs.closeAll(), hosts.closeAll()]);
  }
}

/** Inspect until `done` holds (faults take effect asynchronously inside PostgreSQL). */
async function inspectUntil(topology: Topology, done: (r: PostgresReport) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await inspect(topology);
    if (done(report) || Date.now() > deadline) return report;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const node = (r: PostgresReport, name: string) => r.nodes.find((n) => n.name === name) as PostgresNodeStatus;
const codes = (r: PostgresReport) => r.proposal.refusals.map((x) => x.code);

async function writeRows(c: PgCluster, n = 2000) {
  await c.psql(c.primary, 'CREATE TABLE IF NOT EXISTS t (id int, pad text)');
  await c.psql(c.primary, "INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, $1::int) g", [n]);
}

async function started(standbys = 2): Promise<PgCluster> {
  const t0 = performance.now();
  cluster = await startPgCluster({ standbys });
  console.log(`cluster (primary + ${standbys} standbys) started in ${Math.round(performance.now() - t0)} ms`);
  return cluster;
}

it('healthy fleet: one primary, standbys streaming from it, archiver clean, services running', async () => {
  const c = await started();
  await writeRows(c);
  await c.waitForCatchUp();
  const topology = pgTopology(c, { sshd });
  const r = await inspectUntil(topology, (x) =>
    x.nodes.every((n) => n.role === 'primary' || n.streaming === true),
  );

  expect(r.unknown).toEqual([]);
  const p = node(r, 'pg1');
  expect(p).toMatchObject({
    role: 'primary',
    reachable: true,
    inRecovery: false,
    timeline: 1,
    service: 'running',
  });
  expect(p.position).toBe(p.currentLsn);
  expect(p.replication?.map((x) => [x.applicationName, x.state])).toEqual([
    ['pg2', 'streaming'],
    ['pg3', 'streaming'],
  ]);
  expect(p.archiver).toMatchObject({ failedCount: 0, failing: false });
  expect(p.settings).toMatchObject({ cluster_name: 'pg1', archive_mode: 'on', data_checksums: 'on' });
  for (const s of ['pg2', 'pg3']) {
    expect(node(r, s)).toMatchObject({
      role: 'standby',
      inRecovery: true,
      timeline: 1,
      timelineSource: 'receiver',
      streaming: true,
      replayPaused: false,
      upstream: 'pg1',
      service: 'running',
    });
    expect(node(r, s).receiver).toMatchObject({ status: 'streaming', senderPort: c.primary.port });
    expect(node(r, s).lagBytes).toBeGreaterThanOrEqual(0);
    expect(node(r, s).lagBytes).toBeLessThan(1024 * 1024);
  }
  expect(r.proposal.formerPrimary).toBe('pg1');
  expect(codes(r)).toEqual(['primary-alive']);
  expect(r.proposal.fenced).toBe(false);
  expect(r.proposal.verdicts.pg1).toMatch(/^primary \(timeline 1 at \d+\/[0-9A-F]+\)$/);
});

it('primary crashed (-m immediate): unknown, not LSN 0; confirmed stopped; a candidate is proposed', async () => {
  const c = await started();
  await writeRows(c);
  await c.waitForCatchUp();
  await c.crash('pg1');
  const topology = pgTopology(c, { sshd });
  const r = await inspectUntil(topology, (x) =>
    x.nodes.every((n) => n.role !== 'standby' || n.streaming === false),
  );

  expect(node(r, 'pg1')).toMatchObject({
    role: 'unknown',
    reachable: false,
    position: null,
    timeline: null,
    service: 'stopped',
  });
  expect(node(r, 'pg1').error).toMatch(/^unreachable: /);
  expect(r.unknown).toEqual(['pg1']);
  expect(node(r, 'pg2').streaming).toBe(false);
  expect(node(r, 'pg2').receiver).toBeNull();
  expect(node(r, 'pg2').upstream).toBe('pg1'); // from primary_conninfo once the receiver is gone
  expect(['pg2', 'pg3']).toContain(r.proposal.candidate);
  expect(r.proposal).toMatchObject({
    formerPrimary: 'pg1',
    fenced: true,
    refusals: [],
    lossBytesEstimate: 0,
  });
  expect(r.proposal.primaryLsn?.source).toBe('archive');
  expect(r.proposal.verdicts.pg1).toMatch(/^old primary: unknown \(unreachable: .*\), service stopped$/);
});

it('primary hung (SIGSTOP): unknown within the probe timeout, its service still running (not fenced)', async () => {
  const c = await started();
  const topology = pgTopology(c, { sshd, probeTimeoutMs: 1500 });
  c.hang('pg1');
  const r = await inspect(topology);
  c.resume('pg1');

  expect(r.durationMs).toBeLessThan(1500 + 1500);
  expect(node(r, 'pg1')).toMatchObject({ role: 'unknown', position: null, currentLsn: null, timeline: null });
  expect(node(r, 'pg1').error).toMatch(/no answer within|timed out/);
  expect(node(r, 'pg1').service).toBe('running');
  expect(r.proposal.fenced).toBe(false);
  expect(r.proposal.verdicts.pg1).toMatch(/^old primary: unknown/);
});

it('streaming cut on one standby: "not streaming", never caught up; it still has a position', async () => {
  const c = await started();
  await c.cutStreaming('pg3');
  const topology = pgTopology(c);
  const r = await inspectUntil(topology, (x) => node(x, 'pg3').streaming === false);

  expect(node(r, 'pg3')).toMatchObject({ role: 'standby', streaming: false, receiver: null, upstream: null });
  expect(node(r, 'pg3').position).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  expect(node(r, 'pg2').streaming).toBe(true);
  expect(r.warnings).toContainEqual({
    code: 'not-streaming',
    message: 'pg3 is not streaming (no WAL receiver)',
  });
  expect(node(r, 'pg1').replication?.map((x) => x.applicationName)).toEqual(['pg2']);
});

it('archive failure: pg_stat_archiver failures are reported and warned about', async () => {
  const c = await started(1);
  c.breakArchive();
  await writeRows(c, 100);
  await c.psql(c.primary, 'SELECT pg_switch_wal()');
  const topology = pgTopology(c);
  const r = await inspectUntil(topology, (x) => (node(x, 'pg1').archiver?.failedCount ?? 0) > 0);

  expect(node(r, 'pg1').archiver?.failedCount).toBeGreaterThan(0);
  expect(node(r, 'pg1').archiver).toMatchObject({
    failing: true,
    lastFailedWal: expect.stringMatching(/^[0-9A-F]{24}$/),
  });
  expect(r.warnings.map((w) => w.code)).toContain('archiver-failing');
});

it('replay paused with WAL received but not replayed: the failover is refused', async () => {
  const c = await started();
  for (const s of c.standbys) await c.pauseReplay(s);
  await writeRows(c, 5000);
  const [{ lsn } = {}] = await c.psql(c.primary, 'SELECT pg_current_wal_lsn()::text AS lsn');
  for (const s of c.standbys)
    for (let i = 0; i < 100; i++) {
      const [row] = await c.psql(s, 'SELECT pg_last_wal_receive_lsn() >= $1::pg_lsn AS got', [lsn]);
      if (row?.got === true) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  await c.crash('pg1');
  const r = await inspect(pgTopology(c, { sshd }));

  for (const s of ['pg2', 'pg3']) {
    expect(node(r, s).replayPaused).toBe(true);
    expect(node(r, s).unreplayedBytes).toBeGreaterThan(0);
  }
  expect(codes(r)).toEqual(['replay-paused-unreplayed']);
  expect(r.proposal.verdicts[r.proposal.candidate as string]).toMatch(
    /replay paused \(\d+ bytes unreplayed\)/,
  );
  expect(r.warnings.filter((w) => w.code === 'replay-paused').map((w) => w.message)).toEqual([
    'pg2 has WAL replay paused',
    'pg3 has WAL replay paused',
  ]);
});

it('wrong candidate caught before promoting: the only eligible standby is behind a priority-0 one', async () => {
  const c = await started();
  await c.cutStreaming('pg2');
  await inspectUntil(pgTopology(c), (x) => node(x, 'pg2').streaming === false);
  await writeRows(c, 5000); // pg3 streams these; pg2 only gets what reaches the archive
  const [{ lsn } = {}] = await c.psql(c.primary, 'SELECT pg_current_wal_lsn()::text AS lsn');
  for (let i = 0; i < 100; i++) {
    const [row] = await c.psql('pg3', 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS got', [lsn]);
    if (row?.got === true) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await c.crash('pg1');
  const r = await inspect(pgTopology(c, { sshd, nodes: { pg3: { priority: 0 } } }));

  expect(r.proposal.candidate).toBe('pg2');
  expect(codes(r)).toContain('standby-ahead');
  const ahead = r.proposal.aheadOfCandidate.find((a) => a.node === 'pg3');
  expect(ahead?.bytes).toBeGreaterThan(0);
  expect(r.proposal.allowDataLoss).toMatchObject({ required: true, bytesAtRisk: expect.any(Number) });
  expect(r.proposal.allowDataLoss.bytesAtRisk).toBeGreaterThanOrEqual(ahead?.bytes ?? 0);
  expect(r.proposal.verdicts.pg3).toMatch(/^priority 0, never promoted: ahead of the candidate by \d+ bytes/);
});

it('old primary returns after a promotion: two primaries on different timelines, refused', async () => {
  const c = await started();
  await writeRows(c, 100);
  await c.waitForCatchUp();
  await c.crash('pg1');
  await c.promote('pg2');
  await c.start('pg1');
  const r = await inspect(pgTopology(c, { sshd }));

  expect(node(r, 'pg1')).toMatchObject({ role: 'primary', timeline: 1, timelineSource: 'wal' });
  expect(node(r, 'pg2')).toMatchObject({ role: 'primary', timeline: 2, timelineSource: 'wal' });
  expect(codes(r)).toContain('two-primaries');
  expect(r.proposal.refusals.find((x) => x.code === 'two-primaries')?.liftable).toBe(false);
  expect(r.warnings.map((w) => w.code)).toContain('two-primaries');
});

it('SSH down: every service is unknown (never "stopped"); the database facts are unaffected', async () => {
  const c = await started(1);
  const own = await startSshd();
  const topology = pgTopology(c, { sshd: own });
  const before = await inspect(topology);
  expect(before.nodes.map((n) => n.service)).toEqual(['running', 'running']);
  await own.stop();
  const r = await inspect(topology);

  expect(r.nodes.map((n) => n.service)).toEqual(['unknown', 'unknown']);
  expect(node(r, 'pg1')).toMatchObject({ role: 'primary', reachable: true });
  expect(node(r, 'pg2')).toMatchObject({ role: 'standby', streaming: true });
});
