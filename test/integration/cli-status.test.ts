import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { runRecover } from '../helpers/run-cli';

// Each test spawns the real CLI (TypeScript through tsx): on a loaded machine a start alone can
// take seconds. These are deadlines, not speed checks.
jest.setTimeout(180_000);

let fleet: Fleet;
const dir = mkdtempSync(join(tmpdir(), 'recover-cli-'));

beforeAll(async () => {
  fleet = await testFleet(
    'prod-live',
    [
      masterNode('postgres'),
      {
        name: 'rls-1',
        engine: 'mysql',
        password: 'cli-pw',
        replicator: { remote: 1042 },
        changelog: { last: 1042, count: 5 },
      },
      slaveNode('rls-2', 'postgres', 1042),
      slaveNode('rls-3', 'mysql', 1030),
    ],
    'cli',
  );
});

afterAll(() => fleet.destroy());

describe('recover status (the real binary)', () => {
  it('--json prints exactly one JSON object with the documented fields, exit 0', async () => {
    const r = await runRecover(['status', '--config', fleet.topologyFile, '--json'], fleet.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown> & { nodes: Record<string, unknown>[] };
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining([
        'topology',
        'flavour',
        'nodes',
        'dedicatedSequence',
        'tie',
        'dedicatedSlave',
        'toRestore',
        'verdicts',
        'warnings',
      ]),
    );
    for (const n of report.nodes)
      expect(Object.keys(n)).toEqual(
        expect.arrayContaining([
          'name',
          'role',
          'reachable',
          'error',
          'replicatorRemote',
          'replicatorLocal',
          'replicatorTag',
          'replicatorIdRows',
          'serverType',
          'lastChangelog',
          'latencyMs',
        ]),
      );
    expect(report).toMatchObject({
      topology: 'prod-live',
      flavour: 'coremedia',
      dedicatedSequence: 1042,
      tie: false,
      dedicatedSlave: 'rls-1',
      toRestore: ['rls-3'],
    });
    expect(report.nodes[1]).toMatchObject({
      name: 'rls-1',
      reachable: true,
      lastChangelog: { sequenceno: 1042, idtag: 'tag-1042' },
    });
    expect(r.stdout).not.toContain('cli-pw');
  });

  it('prints an aligned table, the proposal and the warnings', async () => {
    const r = await runRecover(['status', '-c', fleet.topologyFile], fleet.env);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('NODE'))!;
    const rls3 = lines.find((l) => l.startsWith('rls-3'))!;
    // Aligned: every column of a row starts where its header does.
    expect(rls3.indexOf('1030')).toBe(header.indexOf('REMOTE'));
    expect(r.stdout).toContain('Dedicated sequence number: 1042; dedicated slave: rls-1');
    expect(r.stdout).toMatch(/rls-3 +behind: sequence 1030/);
    expect(r.stdout).toMatch(/Master mls is ahead: .*1043-1050/);
  });

  it('an unset password variable makes that node unknown, and the report is still produced', async () => {
    const r = await runRecover(['status', '--config', fleet.topologyFile, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      nodes: { name: string; error: string | null; replicatorRemote: number | null }[];
    };
    const rls1 = report.nodes.find((n) => n.name === 'rls-1')!;
    expect(rls1.replicatorRemote).toBeNull();
    expect(rls1.error).toMatch(/PASSWORD is not set/);
  });

  it('a bad config file exits 2 with one line per problem naming the file and path', async () => {
    const bad = join(dir, 'bad.yaml');
    const config = YAML.parse(readFileSync(fleet.topologyFile, 'utf8')) as {
      topologies: Record<string, unknown>[];
    };
    config.topologies[0]!.flavour = 'oracle';
    config.topologies[0]!.master = 'nobody';
    writeFileSync(bad, YAML.stringify(config));
    const r = await runRecover(['status', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${bad}:\\d+: topologies\\[0\\]\\.flavour: Invalid option`));
    expect(lines[1]).toMatch(
      new RegExp(`^${bad}:\\d+: topologies\\[0\\]\\.master: "nobody" is not among the nodes`),
    );
  });

  it('an unknown topology and a missing --topology among several exit 2 and name the choices', async () => {
    const r = await runRecover(['status', '--config', fleet.topologyFile, '--topology', 'prod-lve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no topology named "prod-lve" (have: prod-live)');

    const two = join(dir, 'two.yaml');
    const config = YAML.parse(readFileSync(fleet.topologyFile, 'utf8')) as {
      topologies: Record<string, unknown>[];
    };
    config.topologies.push({ ...config.topologies[0], name: 'staging' });
    writeFileSync(two, YAML.stringify(config));
    const r2 = await runRecover(['status', '--config', two]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('choose one with --topology (prod-live, staging)');
  });

  it('usage mistakes exit 2', async () => {
    const r = await runRecover(['status', '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--frobnicate'");
  });
});
