import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster';
import { pgTopology } from '../helpers/pg-topology';
import { runRecover } from '../helpers/run-cli';

// Spawns the real CLI: deadlines, not speed checks.
jest.setTimeout(180_000);

let cluster: PgCluster;
const dir = mkdtempSync(join(tmpdir(), 'recover-pgcli-'));
const file = join(dir, 'recover.yaml');

beforeAll(async () => {
  cluster = await startPgCluster({ standbys: 2 });
  await cluster.psql(cluster.primary, 'CREATE TABLE t AS SELECT generate_series(1, 500) AS id');
  await cluster.waitForCatchUp();
  const topology = pgTopology(cluster, { name: 'mc-db' });
  writeFileSync(file, YAML.stringify({ topologies: [{ ...topology, access: { approvers: ['bob'] } }] }));
});

afterAll(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const NODE_FIELDS = [
  'name',
  'role',
  'reachable',
  'error',
  'inRecovery',
  'timeline',
  'receiveLsn',
  'replayLsn',
  'position',
  'streaming',
  'replayPaused',
  'lagBytes',
];

interface Json {
  flavour: string;
  nodes: Record<string, unknown>[];
  proposal: Record<string, unknown> & { verdicts: Record<string, string>; refusals: { code: string }[] };
}

it('status --json of a postgres-streaming fleet: every node with its facts and a proposal; unknown stays null after a crash', async () => {
  const healthy = await runRecover(['status', '--config', file, '--json']);
  expect(healthy.stderr).toBe('');
  expect(healthy.code).toBe(0);
  const a = JSON.parse(healthy.stdout) as Json;
  expect(a.flavour).toBe('postgres-streaming');
  for (const n of a.nodes) expect(Object.keys(n)).toEqual(expect.arrayContaining(NODE_FIELDS));
  expect(Object.keys(a.proposal)).toEqual(
    expect.arrayContaining(['candidate', 'verdicts', 'refusals', 'lossBytesEstimate', 'fenced']),
  );
  expect(a.nodes.map((n) => [n.name, n.role, n.streaming])).toEqual([
    ['pg1', 'primary', null],
    ['pg2', 'standby', true],
    ['pg3', 'standby', true],
  ]);
  expect(Object.keys(a.proposal.verdicts).sort()).toEqual(['pg1', 'pg2', 'pg3']);
  // The primary answers: a failover now would be refused unless a second person accepts the loss.
  expect(a.proposal.refusals.map((r) => r.code)).toContain('primary-alive');

  await cluster.crash(cluster.primary);
  const crashed = await runRecover(['status', '--config', file, '--json']);
  expect(crashed.code).toBe(0);
  const b = JSON.parse(crashed.stdout) as Json;
  const pg1 = b.nodes.find((n) => n.name === 'pg1')!;
  expect(pg1).toMatchObject({
    reachable: false,
    role: 'unknown',
    timeline: null,
    position: null,
    lagBytes: null,
  });
  expect(['pg2', 'pg3']).toContain(b.proposal.candidate);
  expect(b.nodes.find((n) => n.name === 'pg2')).toMatchObject({ streaming: false, inRecovery: true });

  const text = await runRecover(['status', '--config', file]);
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/pg1\s+unknown\s+UNREACHABLE/);
  expect(text.stdout).toMatch(/Proposal: no primary answers; failover candidate pg[23]/);
});
