import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import YAML from 'yaml';
import { serviceUrls } from '../../src/config/env';
import { RecoverConfig, type DbEngine } from '../../src/config/topology';
import {
  clearReplicatorIdRows,
  createFleet,
  insertReplicatorIdRows,
  setReplicator,
  stateFile,
  type Fleet,
} from '../../src/flavours/coremedia/fleet/fleet';
import { Scenario } from '../../src/flavours/coremedia/fleet/scenario';
import { uniquePrefix, useFleet } from '../helpers/fleet';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

type Row = Record<string, unknown>;
const repo = resolve(__dirname, '../..');

function adminUrl(engine: DbEngine, database: string): string {
  const urls = serviceUrls();
  const url = new URL(engine === 'postgres' ? urls.fleetPostgresUrl : urls.fleetMysqlUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function query(
  engine: DbEngine,
  database: string,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  if (engine === 'postgres') {
    const client = new Client({ connectionString: adminUrl(engine, database) });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows;
    } finally {
      await client.end();
    }
  }
  const conn = await mysql.createConnection({ uri: adminUrl(engine, database) });
  try {
    const [rows] = await conn.query(sql, params);
    return rows as Row[];
  } finally {
    await conn.end();
  }
}

/** The seeds' own statements; only `system` needs backticks on the MySQL side. */
async function nodeState(fleet: Fleet, node: string) {
  const d = fleet.databases.find((x) => x.node === node)!;
  const sys = d.engine === 'mysql' ? '`system`' : 'system';
  const system = Object.fromEntries(
    (await query(d.engine, d.database, `SELECT property, content FROM ${sys}`)).map((r) => [
      r.property,
      r.content,
    ]),
  );
  const ids = await query(d.engine, d.database, 'SELECT COUNT(*) AS n FROM ReplicatorIdTable').catch(
    () => null,
  );
  const [last] = await query(
    d.engine,
    d.database,
    'SELECT * FROM changelog WHERE sequenceno = (SELECT max(sequenceno) FROM changelog)',
  );
  return {
    system,
    replicatorIdRows: ids ? Number(ids[0]!.n) : null,
    last: last ? { sequenceno: Number(last.sequenceno), idtag: last.idtag } : null,
  };
}

const fleet = useFleet(__filename, {
  name: 'mixed',
  master: 'mls',
  probeTimeoutMs: 1500,
  nodes: [
    { name: 'mls', engine: 'postgres', changelog: { last: 1050, count: 20, idtag: 'master-last' } },
    {
      name: 'rls-1',
      engine: 'mysql',
      password: 's3cret',
      replicator: { remote: 1042 },
      changelog: { last: 1042, count: 20 },
    },
    {
      name: 'rls-2',
      engine: 'postgres',
      replicator: { remote: 1042, local: 1040, tag: 'custom-tag' },
      replicatorIdRows: 3,
      changelog: { last: 1042, count: 1042 },
    },
    { name: 'rls-3', engine: 'mysql', replicator: { remote: 1030 }, changelog: { last: 1030, count: 5 } },
    {
      name: 'rls-4',
      engine: 'postgres',
      faults: ['missing-replicator-id-table', 'non-numeric-sequence'],
      replicator: { remote: 1042 },
      changelog: { last: 1042, count: 5 },
    },
  ],
});

afterAll(async () => {
  await expectNoLeakedHandles();
});

describe('createFleet', () => {
  it('seeds each node with the system rows, ReplicatorIdTable and changelog the scenario asks for', async () => {
    expect(await nodeState(fleet(), 'mls')).toEqual({
      system: { repository_server_type: 'publication' },
      replicatorIdRows: 0,
      last: { sequenceno: 1050, idtag: 'master-last' },
    });
    expect(await nodeState(fleet(), 'rls-1')).toEqual({
      system: {
        replicator_remote: '1042',
        replicator_local: '1042',
        replicator_tag: 'tag-1042',
        repository_server_type: 'live',
      },
      replicatorIdRows: 0,
      last: { sequenceno: 1042, idtag: 'tag-1042' },
    });
    expect(await nodeState(fleet(), 'rls-2')).toMatchObject({
      system: { replicator_remote: '1042', replicator_local: '1040', replicator_tag: 'custom-tag' },
      replicatorIdRows: 3,
      last: { sequenceno: 1042, idtag: 'tag-1042' },
    });
    expect(await nodeState(fleet(), 'rls-3')).toMatchObject({
      system: { replicator_remote: '1030' },
      last: { sequenceno: 1030 },
    });
    expect(await nodeState(fleet(), 'rls-4')).toMatchObject({
      system: { replicator_remote: 'abc', replicator_local: '1042' },
      replicatorIdRows: null,
    });
  });

  it('creates the other CoreMedia tables, with resources that differ with the sequence number', async () => {
    const d = fleet().databases;
    const [mls, rls3] = [d[0]!, d[3]!];
    const licenses = await query(rls3.engine, rls3.database, 'SELECT * FROM CmLicenses ORDER BY id');
    expect(licenses).toHaveLength(2);
    const versions = async (x: typeof mls) =>
      (await query(x.engine, x.database, 'SELECT version FROM resources ORDER BY id')).map((r) => r.version);
    expect(await versions(mls)).toHaveLength(5);
    expect(await versions(mls)).not.toEqual(await versions(rls3));
  });

  it('writes a topology file that RecoverConfig accepts, with the password as an env variable', () => {
    const f = fleet();
    const config = RecoverConfig.parse(YAML.parse(readFileSync(f.topologyFile, 'utf8')));
    expect(config).toEqual(f.config);
    const topology = config.topologies[0]!;
    expect(topology).toMatchObject({
      name: 'mixed',
      flavour: 'coremedia',
      master: 'mls',
      probe: { timeoutMs: 1500 },
    });
    const rls1 = topology.nodes.find((n) => n.name === 'rls-1')!.db!;
    expect(rls1).toMatchObject({ engine: 'mysql', host: '127.0.0.1', database: f.databases[1]!.database });
    expect(rls1.passwordEnv).toBeDefined();
    expect(f.env).toEqual({ [rls1.passwordEnv!]: 's3cret' });
    expect(readFileSync(f.topologyFile, 'utf8')).not.toContain('s3cret');
  });

  it('lets the MariaDB user in over TCP with its password, and not without', async () => {
    const db = fleet().config.topologies[0]!.nodes.find((n) => n.name === 'rls-1')!.db;
    const login = (password?: string) =>
      mysql.createConnection({
        host: '127.0.0.1',
        port: db.port,
        user: db.user,
        password,
        database: db.database,
      });
    const conn = await login('s3cret');
    const [rows] = await conn.query('SELECT COUNT(*) AS n FROM `system`');
    await conn.end();
    expect((rows as Row[])[0]!.n).toBe(4);
    await expect(login()).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
    await expect(login('wrong')).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
  });

  it('mutates a live node: replicator rows and ReplicatorIdTable', async () => {
    const f = fleet();
    await setReplicator(f, 'rls-3', { remote: 1042, tag: 'tag-x' });
    await insertReplicatorIdRows(f, 'rls-1', 2);
    await insertReplicatorIdRows(f, 'rls-1', 1);
    await clearReplicatorIdRows(f, 'rls-2');
    expect(await nodeState(f, 'rls-3')).toMatchObject({
      system: { replicator_remote: '1042', replicator_local: '1030', replicator_tag: 'tag-x' },
    });
    expect((await nodeState(f, 'rls-1')).replicatorIdRows).toBe(3);
    expect((await nodeState(f, 'rls-2')).replicatorIdRows).toBe(0);
    await setReplicator(f, 'mls', { remote: 7 });
    expect((await nodeState(f, 'mls')).system).toMatchObject({ replicator_remote: '7' });
    await expect(setReplicator(f, 'nope', { remote: 1 })).rejects.toThrow('no node "nope"');
  });
});

describe('destroyFleet', () => {
  it('drops every database and user it created, and its state file', async () => {
    const scenario = Scenario.parse({
      name: 'gone',
      master: 'mls',
      nodes: [
        { name: 'mls', engine: 'postgres', changelog: { last: 10, count: 10 } },
        {
          name: 'rls-1',
          engine: 'mysql',
          password: 'pw',
          replicator: { remote: 9 },
          changelog: { last: 9, count: 9 },
        },
      ],
    });
    const f = await createFleet(scenario, { prefix: uniquePrefix(__filename) });
    const [pgDb, myDb] = [f.databases[0]!.database, f.databases[1]!.database];
    const pgExists = async () =>
      (await query('postgres', 'postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [pgDb])).length;
    const myExists = async () =>
      (await query('mysql', '', 'SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [myDb]))
        .length;
    const users = async () =>
      (await query('mysql', '', 'SELECT host FROM mysql.user WHERE user = ?', [myDb])).length;
    expect([await pgExists(), await myExists(), (await users()) > 0]).toEqual([1, 1, true]);
    expect(existsSync(stateFile(f.prefix))).toBe(true);

    await f.destroy();
    expect([await pgExists(), await myExists(), await users()]).toEqual([0, 0, 0]);
    expect(existsSync(stateFile(f.prefix))).toBe(false);
    expect(existsSync(f.topologyFile)).toBe(false);
    await f.destroy(); // idempotent
  });
});

describe('fleet CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const up = (file: string) =>
    spawnSync('npx', ['tsx', 'scripts/fleet.ts', 'up', file], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 20000,
    });

  it('exits 2 naming the file and the path inside it on a schema error', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'name: bad\nmaster: mls\nnodes:\n  - name: mls\n    engine: postgres\n    changelog: { last: 5, count: 5 }\n' +
        '  - name: rls-1\n    engine: oracle\n    changelog: { last: 5, count: 5 }\n',
    );
    const r = up(bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}:8: nodes[1].engine: Invalid option`);
  });

  it('exits 2 with the line and column on a YAML syntax error', () => {
    const bad = join(dir, 'broken.yaml');
    writeFileSync(bad, 'name: broken\nnodes: [\n');
    const r = up(bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.]/g, '\\.')}:\\d+:\\d+: YAML: `));
  });
});
