import { planFor, startRun } from '../../src/engine/start';
import { HostExecutors } from '../../src/hosts/executors';
import { PlanError } from '../../src/runbook/resolve';
import { closedPort } from '../helpers/blackhole';
import { driveToEnd, pgEngine, stepResult } from '../helpers/pg-runs';
import { until } from '../helpers/until';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster';
import { pgTopology } from '../helpers/pg-topology';
import { pgRunHooks } from '../helpers/pg-run-hooks';

/**
 * Issue 12: postgres-failover and postgres-rebuild-standby, end to end on a real primary and two
 * standbys, steps over a real sshd, through the real engine (BullMQ on Redis), two people.
 */
jest.setTimeout(180_000);

const prefix = `t-pgfo-${process.pid}`;
const alice = { id: 'alice' };
const h = pgRunHooks(prefix);

/** Rows in t on a node; -1 when t does not exist there (yet). */
async function rowsOf(c: PgCluster, node: string): Promise<number> {
  const [row] = await c.psql(
    node,
    "SELECT CASE WHEN to_regclass('t') IS NULL THEN -1 ELSE (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n FROM t', false, true, '')))[1]::text::int END AS n",
  );
  return Number(row?.n);
}

it('fails over after a crash of the primary, then rebuilds the old primary as a standby with pg_rewind', async () => {
  const c = (h.cluster = await startPgCluster({ standbys: 2 }));
  await c.psql(c.primary, 'CREATE TABLE t (id int)');
  await c.psql(c.primary, 'INSERT INTO t SELECT generate_series(1, 1000)');
  await c.waitForCatchUp();
  await c.crash(c.primary);
  const topology = pgTopology(c, { sshd: h.sshd });
  const engine = (h.rt = await pgEngine(topology, prefix));

  const outcome = await startRun(engine.deps, {
    topology: topology.name,
    runbook: 'postgres-failover',
    target: null,
    requester: alice,
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  const candidate = outcome.plan.steps.find((s) => s.templateId === 'promote')!.node;
  const other = c.standbys.map((s) => s.name).find((n) => n !== candidate)!;
  expect(outcome.plan.steps.some((s) => s.templateId === 'allow-data-loss')).toBe(false); // nothing refused
  expect(outcome.plan.steps.find((s) => s.templateId === 'fence-old-primary')?.node).toBe('pg1');

  const { state, gates } = await driveToEnd(engine, outcome.run.id);
  expect(state).toBe('done');
  expect(gates).toEqual(['fence', 'promote']);

  // The new primary takes writes, kept everything, is on timeline 2, and archived.
  await c.psql(candidate, 'INSERT INTO t VALUES (1001)');
  expect(await c.psql(candidate, 'SELECT count(*) AS n FROM t')).toEqual([{ n: '1001' }]);
  expect((await stepResult(engine, outcome.run.id, 'read-timeline'))?.result?.captured.timeline).toBe('2');
  // The other standby streams from it on the new timeline, and the canary reached it.
  const receiver = await c.psql(other, 'SELECT status, received_tli, sender_port FROM pg_stat_wal_receiver');
  expect(receiver).toEqual([{ status: 'streaming', received_tli: 2, sender_port: c.node(candidate).port }]);
  const token = (await stepResult(engine, outcome.run.id, 'canary-write'))?.result?.captured.token;
  expect(await c.psql(other, 'SELECT count(*) AS n FROM recover_canary WHERE token = $1', [token])).toEqual([
    { n: '1' },
  ]);
  expect(c.isRunning('pg1')).toBe(false); // fenced: never restarted as a primary

  // Rebuild the old primary: pg_rewind applies (it has nothing past the fork), its own port survives.
  const rebuild = await startRun(engine.deps, {
    topology: topology.name,
    runbook: 'postgres-rebuild-standby',
    target: 'pg1',
    requester: alice,
  });
  if (rebuild.kind !== 'started') throw new Error(rebuild.kind);
  expect(await driveToEnd(engine, rebuild.run.id)).toMatchObject({ state: 'done', gates: ['rebuild'] });
  expect((await stepResult(engine, rebuild.run.id, 'rewind'))?.result?.captured.rebuiltBy).toBe('pg_rewind');
  expect(
    await c.psql('pg1', 'SELECT pg_is_in_recovery() AS r, current_setting($1) AS port', ['port']),
  ).toEqual([{ r: true, port: String(c.node('pg1').port) }]);
  await until('pg1 to replay the new row', async () => {
    const rows = await c.psql('pg1', 'SELECT count(*) AS n FROM t');
    return rows[0]?.n === '1001';
  });
});

it('refuses to plan a failover while two nodes answer as primary; a live primary needs the allow-data-loss gate', async () => {
  const c = (h.cluster = await startPgCluster({ standbys: 1 }));
  const closed = await closedPort();
  const topology = pgTopology(c, { sshd: h.sshd });
  const engine = (h.rt = await pgEngine(topology, prefix));

  // Healthy fleet: a failover would lose what the live primary writes, so the plan starts with the gate.
  const plan = await planFor(engine.deps, topology.name, 'postgres-failover', null);
  expect(plan.steps[0]).toMatchObject({
    templateId: 'allow-data-loss',
    risk: 'destructive',
    gate: 'allow-data-loss',
  });
  expect(plan.steps[0]!.title).toMatch(
    /^Accept losing up to \d+ bytes of committed data \(refused: .*primary-alive/,
  );
  expect(plan.warnings.join('\n')).toMatch(/allow-data-loss gate: .*primary-alive/);

  // Promote the standby by hand and start the old primary again: split brain is never overridden.
  await c.promote('pg2');
  await until(
    'pg2 to be primary',
    async () => (await c.psql('pg2', 'SELECT NOT pg_is_in_recovery() AS p'))[0]?.p === true,
  );
  const error = await planFor(engine.deps, topology.name, 'postgres-failover', null).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PlanError);
  expect((error as PlanError).code).toBe('refused');
  expect((error as PlanError).message).toMatch(/two-primaries/);

  // Warming up a host that does not answer reports it and throws nothing: the bot still starts.
  const down = pgTopology(c, {
    sshd: { ...h.sshd, hostConfig: () => ({ ...h.sshd.hostConfig(), port: closed }) },
  });
  const hosts = new HostExecutors();
  try {
    const failed = await hosts.warm(down.nodes);
    expect(failed.map((f) => f.node)).toEqual(['pg1', 'pg2']);
    expect(failed[0]!.error).toMatch(/cannot connect/);
  } finally {
    await hosts.closeAll();
  }
});

it('wrong candidate: a priority-0 standby past the candidate is rewound after a second person accepts the loss', async () => {
  const c = (h.cluster = await startPgCluster({ standbys: 2 }));
  await c.cutStreaming('pg2');
  await c.psql(c.primary, 'CREATE TABLE t AS SELECT generate_series(1, 5000) AS id');
  const [{ lsn } = {}] = await c.psql(c.primary, 'SELECT pg_current_wal_lsn()::text AS lsn');
  await until('pg3 to replay the rows pg2 never streamed', async () => {
    const [row] = await c.psql('pg3', 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS got', [lsn]);
    return row?.got === true;
  });
  expect(await rowsOf(c, 'pg3')).toBe(5000);
  await c.crash(c.primary);
  const topology = pgTopology(c, { sshd: h.sshd, nodes: { pg3: { priority: 0 } } });
  const engine = (h.rt = await pgEngine(topology, prefix));

  const outcome = await startRun(engine.deps, {
    topology: topology.name,
    runbook: 'postgres-failover',
    target: null,
    requester: alice,
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  const gate = outcome.plan.steps[0]!;
  expect(gate).toMatchObject({ templateId: 'allow-data-loss', node: 'pg2' });
  expect(gate.title).toMatch(
    /^Accept losing up to [1-9]\d* bytes of committed data \(refused: .*standby-ahead/,
  );
  expect(outcome.plan.steps.filter((s) => s.gate === 'rewind').map((s) => s.id)).toEqual([
    'stop-for-rebuild-past-fork--pg3',
    'rewind-past-fork--pg3',
  ]);

  const end = await driveToEnd(engine, outcome.run.id);
  if (end.state !== 'done')
    throw new Error(
      JSON.stringify(
        (await engine.deps.audit.read(outcome.run.id)).map((e) => e.summary),
        null,
        1,
      ),
    );
  expect(end).toMatchObject({ state: 'done', gates: ['allow-data-loss', 'fence', 'promote', 'rewind'] });
  expect((await stepResult(engine, outcome.run.id, 'rewind-past-fork'))?.result?.captured.rebuiltBy).toBe(
    'pg_rewind',
  );
  // pg3 now follows pg2 on the new timeline and holds exactly what pg2 holds: its extra WAL is gone.
  await until('pg3 to stream from pg2', async () => {
    const [r] = await c.psql('pg3', 'SELECT status, received_tli FROM pg_stat_wal_receiver');
    return r?.status === 'streaming' && r.received_tli === 2;
  });
  expect(await rowsOf(c, 'pg3')).toBe(await rowsOf(c, 'pg2'));
  expect(await rowsOf(c, 'pg3')).not.toBe(5000); // the rows only pg3 had are gone, as approved
  expect(c.isRunning('pg1')).toBe(false);
});
