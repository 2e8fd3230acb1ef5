import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors';
import { loadConfig } from '../../src/config/load';
import { FlavourName } from '../../src/config/topology';
import { FLAVOURS, isSupportedFlavour } from '../../src/flavours/registry';

const dir = mkdtempSync(join(tmpdir(), 'recover-config-'));
let counter = 0;
function file(text: string): string {
  const path = join(dir, `t${++counter}.yaml`);
  writeFileSync(path, text);
  return path;
}

function problemsOf(path: string): string[] {
  try {
    loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const node = (name: string, extra = '') =>
  `      - name: ${name}\n        db: { engine: postgres, host: 127.0.0.1, port: 5432, database: cm_${name.replace(/-/g, '_')}, user: postgres${extra} }\n`;
const topology = (body: string, head = 'name: prod-live\n    flavour: coremedia\n    master: mls') =>
  `topologies:\n  - ${head}\n    access: { approvers: [bob] }\n    nodes:\n${body}`;

describe('loadConfig', () => {
  it('loads the documented shape with defaults filled in', () => {
    const config = loadConfig(join(__dirname, '..', 'fixtures', 'config', 'valid.yaml'));
    const t = config.topologies[0]!;
    expect(t.name).toBe('prod-live');
    expect(t.nodes.map((n) => n.name)).toEqual(['mls', 'rls-1']);
    expect(t.nodes[1]!.db).toMatchObject({
      engine: 'mysql',
      passwordEnv: 'RLS1_DB_PASSWORD',
      connectTimeoutMs: 3000,
    });
    expect(t.probe.timeoutMs).toBe(5000);
  });

  it.each([
    ['YAML syntax', 'topologies:\n  - name: [unclosed\n', /:\d+:\d+: YAML: /],
    [
      'unknown flavour',
      topology(node('mls'), 'name: prod-live\n    flavour: oracle\n    master: mls'),
      /:3: topologies\[0\]\.flavour: Invalid option: expected one of "coremedia"/,
    ],
    [
      'duplicate node name',
      topology(node('mls') + node('rls-1') + node('rls-1')),
      /topologies\[0\]\.nodes\[2\]\.name: duplicate node name "rls-1" in "prod-live"/,
    ],
    [
      'master not among nodes',
      topology(node('rls-1'), 'name: prod-live\n    flavour: coremedia\n    master: mls'),
      /topologies\[0\]\.master: "mls" is not among the nodes of "prod-live" \(rls-1\)/,
    ],
    [
      'missing field',
      'topologies:\n  - name: prod-live\n    flavour: coremedia\n    master: mls\n    nodes:\n      - name: mls\n        db: { engine: postgres, port: 5432, database: cm, user: postgres }\n',
      /:7: topologies\[0\]\.nodes\[0\]\.db\.host: missing/,
    ],
    [
      'unsafe node name',
      topology(node('mls') + node('rls;rm -rf')),
      /topologies\[0\]\.nodes\[1\]\.name: must start with a lower-case letter/,
    ],
    [
      'inline password',
      topology(node('mls', ', password: hunter2')),
      /db\.password: inline passwords are not allowed/,
    ],
    [
      'unknown key',
      topology(node('mls', ', colour: blue')),
      /topologies\[0\]\.nodes\[0\]\.db: Unrecognized key: "colour"/,
    ],
  ])('%s: names the file and the path', (_label, text, expected) => {
    const path = file(text);
    const problems = problemsOf(path);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p.startsWith(path)).toBe(true);
    expect(problems.join('\n')).toMatch(expected);
  });

  it('reports one line per problem', () => {
    const path = file(
      'topologies:\n  - name: Bad Name\n    flavour: oracle\n    master: mls\n    access: { approvers: [bob] }\n    nodes:\n      - name: mls\n        db: { engine: db2, host: h, port: 0, database: x, user: u }\n',
    );
    const problems = problemsOf(path);
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(': ')[1])).toEqual([
      'topologies[0].name',
      'topologies[0].flavour',
      'topologies[0].nodes[0].db.engine',
      'topologies[0].nodes[0].db.port',
    ]);
  });

  it('never echoes an inline password', () => {
    const problems = problemsOf(file(topology(node('mls', ', password: hunter2'))));
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('names a missing file and says what to do', () => {
    expect(problemsOf(join(dir, 'nope.yaml'))).toEqual([
      `${join(dir, 'nope.yaml')}: no such file. Pass --config FILE (or set RECOVER_CONFIG); recover.example.yaml is a start, and \`npm run demo\` needs none`,
    ]);
  });

  it('refuses a topology nobody may approve for (its runs would wait forever), naming file and path', () => {
    const body = node('mls');
    const none = file(
      `topologies:\n  - name: prod-live\n    flavour: coremedia\n    master: mls\n    nodes:\n${body}`,
    );
    const empty = file(topology(body).replace('access: { approvers: [bob] }', 'access: { approvers: [] }'));
    for (const path of [none, empty]) {
      const [problem, ...more] = problemsOf(path);
      expect(more).toEqual([]);
      expect(problem).toMatch(
        new RegExp(`^${path}:\\d+: topologies\\[0\\]\\.access\\.approvers: no approvers`),
      );
      expect(problem).toContain('runs would wait forever');
    }
  });

  it('hints "engine: mysql" for MariaDB', () => {
    const [problem] = problemsOf(file(topology(node('mls').replace('engine: postgres', 'engine: mariadb'))));
    expect(problem).toMatch(/topologies\[0\]\.nodes\[0\]\.db\.engine: .*for MariaDB write "engine: mysql"/);
  });
});

describe('each topology against its flavour', () => {
  it('a coremedia topology needs a master and SQL on every node, with file, line and path', () => {
    const path = file(
      topology(
        `${node('mls')}      - name: rls-1\n        host: { transport: local }\n`,
        'name: prod-live\n    flavour: coremedia',
      ),
    );
    expect(problemsOf(path)).toEqual([
      `${path}:2: topologies[0].master: missing: a coremedia topology names its master`,
      `${path}:8: topologies[0].nodes[1].db: missing: every coremedia node is probed over SQL`,
    ]);
  });

  it("a postgres-streaming topology may leave the master to the probe, but needs each node's cluster", () => {
    const pgNode = (name: string, port: number) =>
      `${node(name).replace('5432', String(port))}        postgres: { dataDir: /srv/${name}, conninfo: "host=10.0.0.1 port=${port} user=rep" }\n`;
    const ok = file(
      topology(`${pgNode('a', 5433)}${pgNode('b', 5434)}`, 'name: mc\n    flavour: postgres-streaming'),
    );
    const t = loadConfig(ok).topologies[0]!;
    expect(t.master).toBeUndefined();
    expect(t.nodes[1]!.postgres).toMatchObject({ dataDir: '/srv/b', priority: 100, backupOnly: false });

    const bad = file(
      topology(`${pgNode('a', 5433)}${node('b')}`, 'name: mc\n    flavour: postgres-streaming'),
    );
    expect(problemsOf(bad)).toEqual([
      `${bad}:9: topologies[0].nodes[1].postgres: missing: dataDir and conninfo of this node (see docs/postgres-streaming.md)`,
    ]);
  });

  it('a flavour Recover cannot run yet is refused at load, naming the ones it can', () => {
    // Flavours arrive one by one: test with whichever schema name is not registered yet, if any.
    const unsupported = FlavourName.options.find((f) => !isSupportedFlavour(f));
    if (unsupported === undefined) {
      expect(Object.keys(FLAVOURS).sort()).toEqual([...FlavourName.options].sort());
      return;
    }
    const path = file(topology(node('mls'), `name: t\n    flavour: ${unsupported}\n    master: mls`));
    expect(problemsOf(path)).toEqual([
      `${path}:3: topologies[0].flavour: flavour "${unsupported}" is not supported yet (supported: ${Object.keys(FLAVOURS).sort().join(', ')})`,
    ]);
  });

  it('a flavour Recover does not know is refused at load', () => {
    const path = file(topology(node('mls'), 'name: t\n    flavour: oracle-dataguard\n    master: mls'));
    expect(problemsOf(path)).toEqual([expect.stringMatching(/^.*:3: topologies\[0\]\.flavour: .*multisite/)]);
  });

  it('a tungsten topology needs its service, SSH and MariaDB SQL on every node', () => {
    const path = file(topology(node('db1'), 'name: t\n    flavour: tungsten'));
    expect(problemsOf(path)).toEqual([
      `${path}:2: topologies[0].tungsten: missing: the replication service (tungsten: { service: alpha })`,
      `${path}:6: topologies[0].nodes[0].host: missing: the Tungsten CLIs are run on every node over SSH`,
      `${path}:7: topologies[0].nodes[0].db.engine: must be mysql (MariaDB/MySQL) in a tungsten topology`,
    ]);
  });
});
