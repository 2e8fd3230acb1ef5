import pg from 'pg';
import { serviceUrls } from '../../src/config/env';
import type { Topology } from '../../src/config/topology';
import { DbRegistry } from '../../src/db/connect';
import { createFleet, setReplicator, type Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { Scenario, type ScenarioInput } from '../../src/flavours/coremedia/fleet/scenario';
import type { CoremediaReport as StatusReport } from '../../src/flavours/coremedia/report';
import { inspectTopology } from '../../src/status/inspect';
import { startBlackhole, closedPort, type Blackhole } from '../helpers/blackhole';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

const prefix = `st${process.pid}`;
const fleets: Fleet[] = [];
let blackhole: Blackhole;

async function fleet(name: string, input: Omit<ScenarioInput, 'name'>): Promise<Fleet> {
  const f = await createFleet(Scenario.parse({ name, ...input }), {
    prefix: `${prefix}_${name.replace(/-/g, '_')}`,
  });
  fleets.push(f);
  return f;
}

async function inspect(topology: Topology, env: NodeJS.ProcessEnv = {}): Promise<StatusReport> {
  const registry = new DbRegistry({ env });
  try {
    return (await inspectTopology(topology, registry)) as StatusReport;
  } finally {
    await registry.closeAll();
  }
}

const slave = (name: string, engine: 'postgres' | 'mysql', remote: number, rows = 0) => ({
  name,
  engine,
  replicator: { remote },
  replicatorIdRows: rows,
  changelog: { last: remote, count: 5 },
});
const master = (engine: 'postgres' | 'mysql', last = 1050) => ({
  name: 'mls',
  engine,
  changelog: { last, count: 5 },
});
const node = (r: StatusReport, name: string) => r.nodes.find((n) => n.name === name)!;

beforeAll(async () => {
  blackhole = await startBlackhole();
});

afterAll(async () => {
  await Promise.all(fleets.map((f) => f.destroy()));
  await blackhole.close();
  await expectNoLeakedHandles();
});

describe('status on a mixed-engine fleet', () => {
  it('reads every node on both engines and proposes the in-sync consistent slave', async () => {
    const f = await fleet('mixed', {
      master: 'mls',
      nodes: [
        master('postgres'),
        { ...slave('rls-1', 'mysql', 1042), password: 'pw-rls-1' },
        slave('rls-2', 'postgres', 1042),
        slave('rls-3', 'mysql', 1030),
        slave('rls-4', 'postgres', 1046, 3),
      ],
    });
    const r = await inspect(f.config.topologies[0]!, f.env);
    expect(r.nodes.map((n) => [n.name, n.reachable, n.error])).toEqual([
      ['mls', true, null],
      ['rls-1', true, null],
      ['rls-2', true, null],
      ['rls-3', true, null],
      ['rls-4', true, null],
    ]);
    expect(node(r, 'rls-1')).toMatchObject({
      engine: 'mysql',
      replicatorRemote: 1042,
      replicatorLocal: 1042,
      replicatorTag: 'tag-1042',
      replicatorIdRows: 0,
      serverType: 'live',
      lastChangelog: { sequenceno: 1042, idtag: 'tag-1042' },
    });
    expect(node(r, 'mls')).toMatchObject({
      role: 'master',
      serverType: 'publication',
      replicatorRemote: null,
    });
    expect(node(r, 'mls').lastChangelog?.sequenceno).toBe(1050);
    expect(node(r, 'rls-4').replicatorIdRows).toBe(3);
    expect(node(r, 'rls-4').replicatorIdSample).toHaveLength(3);
    expect(r.dedicatedSequence).toBe(1042);
    expect(r.tie).toBe(false);
    expect(r.dedicatedSlave).toBe('rls-1');
    expect(r.toRestore).toEqual(['rls-3', 'rls-4']);
    expect(r.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['dedicated-below-highest', 'master-ahead']),
    );
    expect(typeof node(r, 'rls-2').latencyMs).toBe('number');
  });
});

describe('nodes that cannot be read are unknown, never sequence 0', () => {
  let f: Fleet;
  let topology: Topology;
  beforeAll(async () => {
    f = await fleet('faults', {
      master: 'mls',
      probeTimeoutMs: 1500,
      nodes: [
        master('mysql'),
        slave('rls-1', 'postgres', 1042),
        slave('rls-2', 'mysql', 1042),
        { ...slave('rls-3', 'mysql', 1042), password: 'right-password' },
        { ...slave('rls-4', 'postgres', 1042), faults: ['missing-replicator-id-table'] },
        { ...slave('rls-5', 'mysql', 1042), faults: ['non-numeric-sequence'] },
        slave('rls-6', 'postgres', 1042),
        slave('rls-7', 'mysql', 1042),
      ],
    });
    const t = structuredClone(f.config.topologies[0]!);
    // rls-6 hangs at the greeting; rls-7's port refuses.
    t.nodes.find((n) => n.name === 'rls-6')!.db.port = blackhole.port;
    t.nodes.find((n) => n.name === 'rls-7')!.db.port = await closedPort();
    topology = t;
  });

  it('reports each broken node with a clear error and keeps the rest', async () => {
    const passwordVar = topology.nodes.find((n) => n.name === 'rls-3')!.db!.passwordEnv!;
    const r = await inspect(topology, { [passwordVar]: 'wrong-password' });

    const broken = ['rls-3', 'rls-4', 'rls-5', 'rls-6', 'rls-7'];
    for (const name of broken) {
      const n = node(r, name);
      expect({ name, remote: n.replicatorRemote, rows: n.replicatorIdRows, error: typeof n.error }).toEqual({
        name,
        remote: null,
        rows: null,
        error: 'string',
      });
    }
    expect(node(r, 'rls-3')).toMatchObject({ reachable: true });
    expect(node(r, 'rls-3').error).toMatch(/authentication failed.*Access denied/);
    expect(node(r, 'rls-3').error).not.toContain('wrong-password');
    expect(node(r, 'rls-4').error).toMatch(/not a CoreMedia schema: .*replicatoridtable.*does not exist/i);
    expect(node(r, 'rls-5').error).toBe('replicator_remote is "abc", not a sequence number');
    expect(node(r, 'rls-6')).toMatchObject({ reachable: false });
    expect(node(r, 'rls-6').error).toMatch(/^unreachable: /);
    expect(node(r, 'rls-7')).toMatchObject({ reachable: false });
    expect(node(r, 'rls-7').error).toMatch(/^unreachable: connection refused/);

    expect(r.dedicatedSequence).toBe(1042);
    expect(r.dedicatedSlave).toBe('rls-1');
    expect(r.unknown).toEqual(broken);
    expect(r.toRestore).toEqual([]);
    expect(r.warnings.map((w) => w.code)).toContain('slaves-unknown');
  });

  it('a missing password variable is reported, not tried without a password', async () => {
    const r = await inspect(topology, {});
    expect(node(r, 'rls-3').error).toMatch(/no password: RF_.*_PASSWORD is not set/);
  });

  it('a node that hangs on its query is cut off by its own timeout', async () => {
    const t = structuredClone(topology);
    const rls1 = t.nodes.find((n) => n.name === 'rls-1')!;
    rls1.db!.statementTimeoutMs = 60_000; // only the probe's own deadline can end this wait
    const locker = new pg.Client({
      connectionString: serviceUrls().fleetPostgresUrl.replace(/\/[^/]*$/, `/${rls1.db!.database}`),
    });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE system IN ACCESS EXCLUSIVE MODE');
      // The lock is held until this test ends: only the probe's own deadline can have ended the wait.
      const r = await inspect(t, {});
      expect(node(r, 'rls-1')).toMatchObject({ reachable: true, replicatorRemote: null });
      expect(node(r, 'rls-1').error).toBe('probe timed out after 1500 ms (node stopped answering)');
      expect(node(r, 'rls-2').replicatorRemote).toBe(1042);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });
});

describe('planner decisions on real fleets', () => {
  it('flags a tie and proposes the higher number', async () => {
    const f = await fleet('tie', {
      master: 'mls',
      nodes: [
        master('postgres'),
        slave('rls-1', 'mysql', 1040),
        slave('rls-2', 'postgres', 1040),
        slave('rls-3', 'mysql', 1042),
        slave('rls-4', 'postgres', 1042),
      ],
    });
    const r = await inspect(f.config.topologies[0]!);
    expect(r.tie).toBe(true);
    expect(r.tiedSequences).toEqual([1040, 1042]);
    expect(r.dedicatedSequence).toBe(1042);
    expect(r.dedicatedSlave).toBe('rls-3');
    expect(r.warnings.map((w) => w.code)).toContain('tie');
  });

  it('offers a flagged fallback when the whole majority is inconsistent', async () => {
    const f = await fleet('allbad', {
      master: 'mls',
      nodes: [
        master('mysql'),
        slave('rls-1', 'mysql', 1042, 2),
        slave('rls-2', 'postgres', 1042, 1),
        slave('rls-3', 'mysql', 1030),
      ],
    });
    const r = await inspect(f.config.topologies[0]!);
    expect(r.fallback).toBe(true);
    expect(r.dedicatedSlave).toBe('rls-3');
    expect(r.warnings.map((w) => w.code)).toContain('dedicated-inconsistent');
    expect(r.verdicts['rls-1']).toMatch(/ReplicatorIdTable/);
  });

  it('sees a change made to a live node on the next probe', async () => {
    const f = await fleet('drift', {
      master: 'mls',
      nodes: [
        master('postgres'),
        slave('rls-1', 'postgres', 1042),
        slave('rls-2', 'mysql', 1042),
        slave('rls-3', 'mysql', 1040),
      ],
    });
    const t = f.config.topologies[0]!;
    expect((await inspect(t)).dedicatedSequence).toBe(1042);
    await setReplicator(f, 'rls-1', { remote: 1040 });
    const r = await inspect(t);
    expect(r.dedicatedSequence).toBe(1040);
    expect(r.dedicatedSlave).toBe('rls-1');
  });
});
