import { planFor, startRun } from '../../src/engine/start';
import { PlanError } from '../../src/runbook/resolve';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster';
import { driveToEnd, pgEngine, settled, stepResult, until } from '../helpers/pg-runs';
import { pgTopology } from '../helpers/pg-topology';
import { pgRunHooks } from '../helpers/pg-run-hooks';

/**
 * Issue 12 / seed 003 A.3.2: a new data center "wa" bootstrapped from the acting primary in "ec"
 * and promoted, end to end on real clusters over a real sshd, through the real engine.
 */
jest.setTimeout(300_000);

const prefix = `t-pgdc-${process.pid}`;
const MB = 1024 * 1024;
const h = pgRunHooks(prefix);

const count = async (c: PgCluster, node: string) =>
  Number((await c.psql(node, 'SELECT count(*) AS n FROM t'))[0]?.n);

it('seeds wa1 over the WAN once, clones wa2 from it locally, switches over to wa1 and rejoins ec1 as a standby', async () => {
  const c = (h.cluster = await startPgCluster({ names: ['ec1', 'ec2'], standbys: 1, empty: ['wa1', 'wa2'] }));
  await c.psql('ec1', 'CREATE TABLE t (id int, pad text)');
  await c.psql('ec1', "INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g");
  await c.waitForCatchUp();
  const topology = pgTopology(c, {
    sshd: h.sshd,
    postgres: { linkRates: { 'ec->wa': 10 * MB }, maxRate: 8 * MB },
    nodes: {
      ec1: { dataCenter: 'ec' },
      ec2: { dataCenter: 'ec' },
      wa1: { dataCenter: 'wa' },
      wa2: { dataCenter: 'wa' },
    },
  });
  const engine = (h.rt = await pgEngine(topology, prefix));

  // The first new node must be in another data center than the primary, and not run yet.
  const refused = await planFor(engine.deps, topology.name, 'postgres-new-datacenter', 'ec2').catch(
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(PlanError);
  expect((refused as PlanError).message).toMatch(
    /no new data center from ec2: it is in ec, the primary's own/,
  );

  const outcome = await startRun(engine.deps, {
    topology: topology.name,
    runbook: 'postgres-new-datacenter',
    target: 'wa1',
    requester: { id: 'alice' },
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  const { plan } = outcome;
  const step = (id: string) => plan.steps.filter((s) => s.templateId === id);

  // The plan says what the WAN copy costs before anyone approves it, and copies over the WAN once.
  const estimate =
    /\d+ MB from ec1 \(link ec->wa 10 MB\/s, --max-rate 8\.0 MB\/s, 80% of the link\): about \d+ s/;
  expect(plan.warnings.join('\n')).toMatch(
    new RegExp(`WAN transfer \\(base backup of wa1, once\\): ${estimate.source}`),
  );
  expect(step('seed-first').map((s) => [s.node, s.title])).toEqual([
    [
      'wa1',
      expect.stringMatching(
        new RegExp(`^Base backup of wa1 from ec1 across the WAN, once: ${estimate.source}`),
      ),
    ],
  ]);
  const argv = (s: (typeof plan.steps)[number]) => (s.action.kind === 'command' ? s.action.argv : []);
  expect(argv(step('seed-first')[0]!).slice(-2)).toEqual([
    expect.stringContaining(`port=${c.node('ec1').port}`),
    '8192k',
  ]);
  expect(step('clone-others').map((s) => [s.node, argv(s).slice(-2)])).toEqual([
    ['wa2', [expect.stringContaining(`port=${c.node('wa1').port}`), '']],
  ]);
  expect(step('stop-primary').map((s) => s.node)).toEqual(['ec1']);
  expect(step('promote').map((s) => s.node)).toEqual(['wa1']);
  expect(step('repoint').map((s) => s.node)).toEqual(['ec2']);

  // Writes until the acting master stops: none may be lost.
  expect((await settled(engine, outcome.run.id)).state).toBe('awaiting-approval');
  await c.psql('ec1', "INSERT INTO t SELECT g, 'late' FROM generate_series(20001, 25000) g");
  const before = await count(c, 'ec1');

  const { state, gates, reason } = await driveToEnd(engine, outcome.run.id);
  expect({ state, reason }).toEqual({ state: 'done', reason: null });
  expect(gates).toEqual(['seed-new-dc', 'clone-new-dc', 'stop-primary', 'promote', 'rebuild']);

  // --max-rate held the WAN copy down: it cannot have gone much faster than size / 8 MB/s.
  const sizeBytes = Number(
    (await c.psql('wa1', 'SELECT sum(pg_database_size(oid)) AS b FROM pg_database'))[0]?.b,
  );
  const seeded = await stepResult(engine, outcome.run.id, 'seed-first');
  expect(seeded?.result?.durationMs).toBeGreaterThan(((sizeBytes / (8 * MB)) * 1000) / 2);

  // wa1 is the primary, kept every row, takes writes; wa2 cascades from wa1 inside the new DC;
  // ec1 (old acting master) and ec2 stream from wa1 across the WAN; every node kept its own port.
  expect(
    await c.psql('wa1', 'SELECT pg_is_in_recovery() AS r, current_setting($1) AS port', ['port']),
  ).toEqual([{ r: false, port: String(c.node('wa1').port) }]);
  expect(await count(c, 'wa1')).toBe(before);
  await c.psql('wa1', "INSERT INTO t VALUES (25001, 'after')");
  for (const standby of ['wa2', 'ec1', 'ec2']) {
    expect(
      await c.psql(standby, 'SELECT pg_is_in_recovery() AS r, current_setting($1) AS port', ['port']),
    ).toEqual([{ r: true, port: String(c.node(standby).port) }]);
    expect(
      await c.psql(standby, 'SELECT status, received_tli, sender_port FROM pg_stat_wal_receiver'),
    ).toEqual([{ status: 'streaming', received_tli: 2, sender_port: c.node('wa1').port }]);
    await until(`${standby} to replay the new row`, async () => (await count(c, standby)) === before + 1);
  }
  // Cascade: wa1 sends to wa2 itself (application_name = cluster_name).
  const senders = await c.psql('wa1', 'SELECT application_name FROM pg_stat_replication ORDER BY 1');
  expect(senders.map((r) => r.application_name)).toEqual(['ec1', 'ec2', 'wa2']);
});
