import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import YAML from 'yaml';
import { serviceUrls } from '../../../config/env';
import { RecoverConfig, type DbEngine, type SqlTopology } from '../../../config/topology';
import { addReplicatorIdRows, seedCoreMedia, tbl, upsertSystem, type SqlRunner } from './coremedia-schema';
import { serverTypeOf, type Scenario } from './scenario';

export interface FleetDatabase {
  node: string;
  engine: DbEngine;
  database: string;
  /** Dedicated MariaDB user (same name as the database), when the scenario gave a password. */
  user?: string;
}

/** What `down` needs to undo a fleet; saved in .fleet/<prefix>.json before anything is created. */
export interface FleetState {
  name: string;
  prefix: string;
  topologyFile: string;
  /** True when the topology file is ours (under .fleet/) and goes away with the fleet. */
  ownsTopologyFile: boolean;
  databases: FleetDatabase[];
}

export interface Fleet extends FleetState {
  config: Omit<RecoverConfig, 'topologies'> & { topologies: SqlTopology[] };
  /** Password variables named by the topology's passwordEnv, to merge into a child's env. */
  env: Record<string, string>;
  destroy(): Promise<void>;
}

/** Bad names in a scenario or prefix: the caller's input, not a server problem. */
export class FleetInputError extends Error {
  override name = 'FleetInputError';
}

const SAFE_DB = /^rf_[a-z0-9_]+$/;
// Every host a loopback client may be matched as, with or without skip-name-resolve.
const USER_HOSTS = ['%', 'localhost', '127.0.0.1'] as const;

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export function fleetDir(): string {
  return join(repoRoot(), '.fleet');
}

export function stateFile(prefix: string): string {
  return join(fleetDir(), `${prefix}.json`);
}

export function normalizePrefix(prefix: string): string {
  const p = prefix.replace(/-/g, '_');
  if (!/^[a-z][a-z0-9_]*$/.test(p))
    throw new FleetInputError(`fleet prefix "${prefix}" must be a-z, 0-9, "_" or "-"`);
  return p;
}

export function databaseName(prefix: string, node: string): string {
  const name = `rf_${normalizePrefix(prefix)}_${node.replace(/-/g, '_')}`;
  if (!SAFE_DB.test(name) || name.length > 63) {
    throw new FleetInputError(`database name "${name}" is not a safe identifier of at most 63 characters`);
  }
  return name;
}

function passwordEnvName(prefix: string, node: string): string {
  return `RF_${prefix}_${node}_PASSWORD`.toUpperCase().replace(/-/g, '_');
}

interface Conn extends SqlRunner {
  close(): Promise<void>;
}

function adminUrl(engine: DbEngine, database = ''): URL {
  const urls = serviceUrls();
  const url = new URL(engine === 'postgres' ? urls.fleetPostgresUrl : urls.fleetMysqlUrl);
  url.pathname = `/${database || (engine === 'postgres' ? 'postgres' : '')}`;
  return url;
}

/** `?` placeholders to PostgreSQL's $1…; fleet SQL never has `?` inside literals. */
function toDollar(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** An admin session on `database` (or the server's default database). */
async function connect(engine: DbEngine, database?: string): Promise<Conn> {
  const url = adminUrl(engine, database);
  const where = `${engine === 'postgres' ? 'PostgreSQL' : 'MariaDB'} at ${url.host}`;
  try {
    if (engine === 'postgres') {
      const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
      client.on('error', () => undefined); // a server-side disconnect must not crash the process
      await client.connect();
      return {
        engine,
        run: async (sql, params = []) => (await client.query(toDollar(sql), params as unknown[])).rows,
        close: () => client.end(),
      };
    }
    const conn = await mysql.createConnection({ uri: url.toString(), connectTimeout: 5000 });
    return {
      engine,
      run: async (sql, params = []) => {
        const [rows] = await conn.query(sql, params as unknown[]);
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
      },
      close: () => conn.end(),
    };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot connect to ${where} (${e.code ?? e.message}); run npm run services`, {
      cause: err,
    });
  }
}

async function withConn<T>(engine: DbEngine, database: string | undefined, fn: (c: Conn) => Promise<T>) {
  const c = await connect(engine, database);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

function q(engine: DbEngine, db: string): string {
  if (!SAFE_DB.test(db)) throw new Error(`refusing unsafe database name "${db}"`);
  return engine === 'mysql' ? `\`${db}\`` : `"${db}"`;
}

async function dropDatabase(admin: Conn, db: string): Promise<void> {
  // WITH (FORCE) ends sessions a crashed test may have left behind.
  const force = admin.engine === 'postgres' ? ' WITH (FORCE)' : '';
  await admin.run(`DROP DATABASE IF EXISTS ${q(admin.engine, db)}${force}`);
}

async function dropUser(admin: Conn, user: string): Promise<void> {
  if (!SAFE_DB.test(user)) throw new Error(`refusing unsafe user name "${user}"`);
  for (const host of USER_HOSTS) await admin.run('DROP USER IF EXISTS ?@?', [user, host]);
}

async function createUser(admin: Conn, user: string, password: string, db: string): Promise<void> {
  await dropUser(admin, user);
  for (const host of USER_HOSTS) {
    await admin.run('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password]);
    await admin.run(`GRANT ALL PRIVILEGES ON ${q('mysql', db)}.* TO ?@?`, [user, host]);
  }
  // The bot will log in over TCP from loopback: prove that works now, not during a test.
  const url = adminUrl('mysql');
  const conn = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user,
    password,
    database: db,
    connectTimeout: 5000,
  });
  try {
    await conn.query('SELECT 1');
  } finally {
    await conn.end();
  }
}

/** Builds the state (names only) a scenario implies; nothing is created. */
export function planFleet(
  scenario: Scenario,
  opts: { prefix?: string; topologyFile?: string } = {},
): FleetState {
  const prefix = normalizePrefix(opts.prefix ?? scenario.name);
  const names = scenario.nodes.map((n) => databaseName(prefix, n.name));
  const clash = names.find((n, i) => names.indexOf(n) !== i);
  if (clash) throw new FleetInputError(`two nodes map to the database name ${clash} ("-" becomes "_")`);
  return {
    name: scenario.name,
    prefix,
    topologyFile: resolve(opts.topologyFile ?? join(fleetDir(), `${prefix}.topology.yaml`)),
    ownsTopologyFile: opts.topologyFile === undefined,
    databases: scenario.nodes.map((n) => {
      const database = databaseName(prefix, n.name);
      return { node: n.name, engine: n.engine, database, ...(n.password ? { user: database } : {}) };
    }),
  };
}

function topologyFor(scenario: Scenario, state: FleetState): unknown {
  const nodes = scenario.nodes.map((n, i) => {
    const d = state.databases[i]!;
    const url = adminUrl(n.engine);
    const defaultUser = n.engine === 'postgres' ? 'postgres' : 'root';
    return {
      name: n.name,
      db: {
        engine: n.engine,
        host: url.hostname,
        port: Number(url.port || (n.engine === 'postgres' ? 5432 : 3306)),
        database: d.database,
        user: d.user ?? (decodeURIComponent(url.username) || defaultUser),
        ...(d.user ? { passwordEnv: passwordEnvName(state.prefix, n.name) } : {}),
      },
    };
  });
  const probe = { timeoutMs: scenario.probeTimeoutMs ?? 5000 };
  // Someone must be allowed to approve (a topology without approvers is refused at load): in the
  // terminal, `--as bob`.
  const access = { approvers: ['bob'] };
  return {
    topologies: [
      { name: scenario.name, flavour: scenario.flavour, master: scenario.master, probe, access, nodes },
    ],
  };
}

/** Drops and recreates every node's database, seeds it, and writes the topology file. */
export async function createFleet(
  scenario: Scenario,
  opts: { prefix?: string; topologyFile?: string } = {},
): Promise<Fleet> {
  const state = planFleet(scenario, opts);
  const raw = topologyFor(scenario, state);
  const config = RecoverConfig.parse(raw);
  mkdirSync(fleetDir(), { recursive: true });
  writeFileSync(stateFile(state.prefix), JSON.stringify(state, null, 2) + '\n');
  const env: Record<string, string> = {};
  try {
    for (const [i, n] of scenario.nodes.entries()) {
      const d = state.databases[i]!;
      await withConn(n.engine, undefined, async (admin) => {
        await dropDatabase(admin, d.database);
        await admin.run(
          `CREATE DATABASE ${q(n.engine, d.database)}${n.engine === 'mysql' ? ' CHARACTER SET utf8mb4' : ''}`,
        );
        if (d.user && n.password) {
          await createUser(admin, d.user, n.password, d.database);
          env[passwordEnvName(state.prefix, n.name)] = n.password;
        }
      });
      const r = n.replicator;
      await withConn(n.engine, d.database, (db) =>
        seedCoreMedia(db, {
          ...(r
            ? {
                replicator: {
                  remote: `${r.remote}`,
                  local: `${r.local ?? r.remote}`,
                  tag: r.tag ?? `tag-${r.remote}`,
                },
              }
            : {}),
          replicatorIdRows: n.replicatorIdRows,
          changelog: n.changelog,
          serverType: serverTypeOf(scenario, n),
          faults: n.faults,
        }),
      );
    }
    mkdirSync(dirname(state.topologyFile), { recursive: true });
    writeFileSync(state.topologyFile, YAML.stringify(raw));
  } catch (err) {
    await destroyFleet(state).catch(() => undefined);
    throw err;
  }
  return { ...state, config: config as Fleet['config'], env, destroy: () => destroyFleet(state) };
}

/** Drops the fleet's databases and users, then forgets it. Safe to call twice. */
export async function destroyFleet(state: FleetState): Promise<void> {
  // Both engines are attempted even if one is down; the state file stays until both are clean.
  const results = await Promise.allSettled(
    (['postgres', 'mysql'] as const).map(async (engine) => {
      const dbs = state.databases.filter((d) => d.engine === engine);
      if (dbs.length === 0) return;
      await withConn(engine, undefined, async (admin) => {
        for (const d of dbs) {
          await dropDatabase(admin, d.database);
          if (d.user) await dropUser(admin, d.user);
        }
      });
    }),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  rmSync(stateFile(state.prefix), { force: true });
  if (state.ownsTopologyFile) rmSync(state.topologyFile, { force: true });
}

export function loadFleetState(prefix: string): FleetState | undefined {
  const file = stateFile(normalizePrefix(prefix));
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as FleetState;
}

type FleetRef = Pick<FleetState, 'databases'>;

function withNode<T>(fleet: FleetRef, node: string, fn: (db: Conn) => Promise<T>): Promise<T> {
  const d = fleet.databases.find((x) => x.node === node);
  if (!d) return Promise.reject(new Error(`no node "${node}" in this fleet`));
  return withConn(d.engine, d.database, fn);
}

/** Overwrites (or creates) the replicator rows of `system` on one node. */
export function setReplicator(
  fleet: FleetRef,
  node: string,
  values: { remote?: number | string; local?: number | string; tag?: string },
): Promise<void> {
  const entries: [string, string][] = [];
  if (values.remote !== undefined) entries.push(['replicator_remote', String(values.remote)]);
  if (values.local !== undefined) entries.push(['replicator_local', String(values.local)]);
  if (values.tag !== undefined) entries.push(['replicator_tag', values.tag]);
  return withNode(fleet, node, (db) => upsertSystem(db, entries));
}

/** Makes a node inconsistent: `n` more rows in ReplicatorIdTable. */
export function insertReplicatorIdRows(fleet: FleetRef, node: string, n: number): Promise<void> {
  return withNode(fleet, node, async (db) => {
    const [row] = await db.run(
      `SELECT COALESCE(MAX(sequenceno), 0) AS m FROM ${tbl(db.engine, 'changelog')}`,
    );
    await addReplicatorIdRows(db, n, Number(row?.m ?? 0));
  });
}

export function clearReplicatorIdRows(fleet: FleetRef, node: string): Promise<void> {
  return withNode(fleet, node, async (db) => {
    await db.run(`DELETE FROM ${tbl(db.engine, 'ReplicatorIdTable')}`);
  });
}
