import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { runRecover } from '../helpers/run-cli';
import { startTungstenCluster, type TsimCluster } from '../helpers/tsim/cluster';
import { tungstenTopology } from '../helpers/tungsten-topology';

// Spawns the real CLI: deadlines, not speed checks.
jest.setTimeout(120_000);

let cluster: TsimCluster;
const dir = mkdtempSync(join(tmpdir(), 'recover-tgcli-'));
const file = join(dir, 'recover.yaml');

beforeAll(async () => {
  cluster = await startTungstenCluster({ replicas: 2 });
  await cluster.write('CREATE DATABASE app');
  await cluster.write('CREATE TABLE app.t (id INT PRIMARY KEY)');
  for (let i = 1; i <= 5; i++) await cluster.write('INSERT INTO app.t VALUES (?)', [i]);
  await cluster.waitForCatchUp();
  const backup = await cluster.backup('host2');
  const topology = tungstenTopology(cluster, {
    name: 'orders',
    backups: { host2: { kind: 'dump', path: backup.file, from: 'replica' } },
  });
  writeFileSync(file, YAML.stringify({ topologies: [{ ...topology, access: { approvers: ['bob'] } }] }));
});

afterAll(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
  await expectNoLeakedHandles();
});

interface Json {
  flavour: string;
  service: string;
  cluster: { known: boolean; error: string | null; coordinator: unknown };
  nodes: (Record<string, unknown> & { name: string; replicator: Record<string, unknown> | null })[];
  proposal: {
    primary: string | null;
    verdicts: Record<string, string>;
    refusals: { code: string; node: string | null; message: string }[];
    restorable: string[];
  };
  unknown: string[];
}

const status = async (): Promise<Json> => {
  const r = await runRecover(['status', '--config', file, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Json;
};

it('status --json of a tungsten cluster: facts per node and a proposal with verdicts; unknown stays unknown', async () => {
  const a = await status();
  expect(a).toMatchObject({ flavour: 'tungsten', service: 'alpha', cluster: { known: true } });
  expect(a.nodes.map((n) => [n.name, n.role, n.reachable, n.replicator?.state])).toEqual([
    ['host1', 'primary', true, 'ONLINE'],
    ['host2', 'replica', true, 'ONLINE'],
    ['host3', 'replica', true, 'ONLINE'],
  ]);
  for (const n of a.nodes)
    expect(Object.keys(n)).toEqual(
      expect.arrayContaining(['cluster', 'replicator', 'thl', 'trep', 'abilities', 'sourceId']),
    );
  expect(a.nodes[1]).toMatchObject({
    abilities: { thlListEvent: true, dsctlReset: true },
    backup: { from: 'replica', position: expect.stringMatching(/^mysql-bin\.\d+:\d+$/), error: null },
    trep: [
      { seqno: 6, epoch: 0, sourceId: 'host1', eventId: expect.stringMatching(/^mysql-bin\.\d+:\d{16};-1$/) },
    ],
  });
  expect(a.proposal).toMatchObject({ primary: 'host1', refusals: [], restorable: ['host2', 'host3'] });
  expect(a.proposal.verdicts.host1).toMatch(/^primary: replicator ONLINE, THL seqno 0\.\.6/);
  expect(a.proposal.verdicts.host2).toMatch(
    /^replica: ONLINE, replicator ONLINE, applied seqno 6 \(0 behind the primary\), latency [\d.]+s, backup \(replica\) at mysql-bin\.\d+:\d+$/,
  );

  // The manager stops answering and host3's replicator dies: both unknown, never "ok".
  await cluster.faults.stopManager();
  await cluster.faults.killReplicator('host3');
  try {
    const b = await status();
    expect(b.cluster).toMatchObject({
      known: false,
      error: expect.stringMatching(/Unable to connect to the manager/),
    });
    expect(b.nodes.find((n) => n.name === 'host3')).toMatchObject({ replicator: null, role: 'unknown' });
    expect(b.unknown).toEqual(['host3']);
    expect(b.proposal.refusals.map((r) => r.code)).toEqual(['cluster-unknown', 'node-unknown']);
    expect(b.proposal.restorable).toEqual([]);

    const text = await runRecover(['status', '--config', file]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/cluster view UNKNOWN \(manager unreachable\)/);
    expect(text.stdout).toMatch(/host3: unknown: trepctl: exit 1/);
  } finally {
    await cluster.faults.startManager();
    await cluster.faults.startReplicator('host3');
  }
});
