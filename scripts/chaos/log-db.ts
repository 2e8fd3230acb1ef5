import mysql from 'mysql2/promise';
import pg from 'pg';
import { serviceUrls } from '../../src/config/env';
import type { DbEngine } from '../../src/config/topology';

/**
 * Instrumentation of the fleet's databases: every INSERT/UPDATE/DELETE on the CoreMedia tables is
 * logged into `dml_log` in a SEPARATE database (one per engine for the whole suite), which no
 * drop-schema or restore step can reach.
 *
 * The restore steps drop a node's schema and import the dedicated slave's dump, so anything that
 * lives in the node's schema vanishes and anything in the dedicated slave's database comes back
 * with the dump. The design around that:
 * - Row triggers identify the node by the database they run in (PostgreSQL current_database(),
 *   MariaDB DATABASE()), never by a hard-coded name: the dedicated slave's triggers travel with
 *   its dump and, once restored on the master, log the master's changes under the master's name.
 * - PostgreSQL: the trigger functions live in pg_catalog, which pg_dump never dumps and DROP
 *   SCHEMA public never touches; they write through dblink (installed in public, so the dump
 *   brings it back after a drop). dblink writes are autonomous, so each row carries its txid and
 *   only committed ones are counted (txid_status). Event triggers on every node but the dedicated
 *   slave (whose dump must not carry them) log each DROP SCHEMA / DROP TABLE when it starts and each
 *   CREATE TABLE when it ends: a restore is a burst of CREATE TABLEs (pg_dump puts row triggers
 *   after the data, so the COPY of a restore logs no row inserts).
 * - MariaDB has no DDL triggers: its drops are not visible here, and its restores are counted by
 *   the restore client's wrapper (tool-wrappers.ts). Its row triggers write in the same
 *   transaction as the change, so only committed changes are logged.
 */

export interface LoggedChange {
  id: number;
  at: Date;
  /** The database the change happened in. */
  database: string;
  kind: 'dml' | 'ddl';
  table: string | null;
  /** INSERT | UPDATE | DELETE, or the DDL command tag. */
  op: string;
  /** The row's key (system.property, changelog.sequenceno, …) or the DDL's object. */
  key: string | null;
  oldContent: string | null;
  newContent: string | null;
}

/** Per table: the key column and the content column the log keeps. */
export const LOGGED_TABLES: Record<string, { key: string; content: string }> = {
  system: { key: 'property', content: 'content' },
  changelog: { key: 'sequenceno', content: 'idtag' },
  CmLicenses: { key: 'id', content: 'license' },
  ReplicatorIdTable: { key: 'id', content: 'resourceid' },
  resources: { key: 'id', content: 'name' },
};

const LOG_DDL = `CREATE TABLE dml_log (
  id BIGINT PRIMARY KEY {{auto}}, at {{ts}} DEFAULT {{now}}, node VARCHAR(64) NOT NULL,
  kind VARCHAR(8) NOT NULL, tbl VARCHAR(64), op VARCHAR(32) NOT NULL, prop VARCHAR(255),
  old_content VARCHAR(1024), new_content VARCHAR(1024), xid BIGINT)`;

function url(engine: DbEngine, database: string): string {
  const u = new URL(engine === 'postgres' ? serviceUrls().fleetPostgresUrl : serviceUrls().fleetMysqlUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function sql(
  engine: DbEngine,
  database: string,
  statements: string | string[],
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const list = Array.isArray(statements) ? statements : [statements];
  let rows: Record<string, unknown>[] = [];
  if (engine === 'postgres') {
    const client = new pg.Client({ connectionString: url(engine, database), connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      for (const s of list) rows = (await client.query(s, params)).rows;
    } finally {
      await client.end();
    }
    return rows;
  }
  const conn = await mysql.createConnection({ uri: url(engine, database), connectTimeout: 5000 });
  try {
    for (const s of list) {
      const [r] = await conn.query(s, params);
      rows = Array.isArray(r) ? (r as Record<string, unknown>[]) : [];
    }
  } finally {
    await conn.end();
  }
  return rows;
}

const safe = (name: string) => {
  if (!/^rf_[a-z0-9_]+$/.test(name)) throw new Error(`unsafe database name ${name}`);
  return name;
};

/** Create the log database of one engine (dropped first if a killed suite left it). */
export async function createLogDb(engine: DbEngine, database: string): Promise<void> {
  const admin = engine === 'postgres' ? 'postgres' : '';
  const force = engine === 'postgres' ? ' WITH (FORCE)' : '';
  await sql(engine, admin, [
    `DROP DATABASE IF EXISTS ${safe(database)}${force}`,
    `CREATE DATABASE ${safe(database)}`,
  ]);
  const ddl =
    engine === 'postgres'
      ? LOG_DDL.replace('{{auto}}', 'GENERATED ALWAYS AS IDENTITY')
          .replace('{{ts}}', 'TIMESTAMPTZ')
          .replace('{{now}}', 'clock_timestamp()')
      : LOG_DDL.replace('{{auto}}', 'AUTO_INCREMENT')
          .replace('{{ts}}', 'DATETIME(6)')
          .replace('{{now}}', 'CURRENT_TIMESTAMP(6)');
  await sql(engine, database, ddl);
}

export async function dropLogDb(engine: DbEngine, database: string): Promise<void> {
  const force = engine === 'postgres' ? ' WITH (FORCE)' : '';
  await sql(
    engine,
    engine === 'postgres' ? 'postgres' : '',
    `DROP DATABASE IF EXISTS ${safe(database)}${force}`,
  );
}

function pgInstrumentation(logDb: string, withDdl: boolean): string[] {
  const target = new URL(serviceUrls().fleetPostgresUrl);
  const conn = `host=${target.hostname} port=${target.port || 5432} user=${decodeURIComponent(target.username) || 'postgres'} dbname=${logDb}`;
  const insert = (values: string) =>
    `PERFORM public.dblink_exec('${conn}', format('INSERT INTO dml_log (node, kind, tbl, op, prop, old_content, new_content, xid) VALUES (${values})', ${'%ARGS%'}));`;
  const dml = insert('%L, %L, %L, %L, %L, %L, %L, %s').replace(
    '%ARGS%',
    "current_database(), 'dml', TG_TABLE_NAME, TG_OP, coalesce(n->>TG_ARGV[0], o->>TG_ARGV[0]), o->>TG_ARGV[1], n->>TG_ARGV[1], txid_current()",
  );
  const statements = [
    'CREATE EXTENSION IF NOT EXISTS dblink WITH SCHEMA public',
    `CREATE OR REPLACE FUNCTION pg_catalog.chaos_log_dml() RETURNS trigger LANGUAGE plpgsql AS $f$
     DECLARE o jsonb; n jsonb;
     BEGIN
       IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
       IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
       ${dml}
       RETURN NULL;
     END $f$`,
    ...Object.entries(LOGGED_TABLES).map(
      ([t, c]) =>
        `CREATE TRIGGER chaos_dml AFTER INSERT OR UPDATE OR DELETE ON public.${t.toLowerCase()} FOR EACH ROW EXECUTE FUNCTION pg_catalog.chaos_log_dml('${c.key}', '${c.content}')`,
    ),
  ];
  if (!withDdl) return statements;
  const ddl = (what: string) =>
    insert('%L, %L, NULL, %L, %L, NULL, NULL, %s').replace(
      '%ARGS%',
      `current_database(), 'ddl', tg_tag, ${what}, txid_current()`,
    );
  return [
    ...statements,
    // Errors are swallowed: between a drop and the restore's CREATE EXTENSION there is no dblink,
    // and an event trigger must never make a runbook statement fail.
    `CREATE OR REPLACE FUNCTION pg_catalog.chaos_log_ddl_start() RETURNS event_trigger LANGUAGE plpgsql AS $f$
     BEGIN ${ddl('NULL')} EXCEPTION WHEN others THEN NULL; END $f$`,
    `CREATE OR REPLACE FUNCTION pg_catalog.chaos_log_ddl_end() RETURNS event_trigger LANGUAGE plpgsql AS $f$
     DECLARE r record;
     BEGIN
       FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
         IF r.schema_name = 'public' THEN ${ddl('r.object_identity')} END IF;
       END LOOP;
     EXCEPTION WHEN others THEN NULL;
     END $f$`,
    `CREATE EVENT TRIGGER chaos_ddl_start ON ddl_command_start WHEN TAG IN ('DROP SCHEMA', 'DROP TABLE') EXECUTE FUNCTION pg_catalog.chaos_log_ddl_start()`,
    `CREATE EVENT TRIGGER chaos_ddl_end ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION pg_catalog.chaos_log_ddl_end()`,
  ];
}

function mysqlInstrumentation(logDb: string): string[] {
  return Object.entries(LOGGED_TABLES).flatMap(([t, c]) =>
    (['INSERT', 'UPDATE', 'DELETE'] as const).map((op) => {
      const row = (r: 'OLD' | 'NEW') =>
        (op === 'INSERT' && r === 'OLD') || (op === 'DELETE' && r === 'NEW')
          ? 'NULL'
          : `${r}.\`${c.content}\``;
      const key = op === 'DELETE' ? `OLD.\`${c.key}\`` : `NEW.\`${c.key}\``;
      return `CREATE TRIGGER chaos_${op.toLowerCase()}_${t.toLowerCase()} AFTER ${op} ON \`${t}\` FOR EACH ROW
        INSERT INTO \`${logDb}\`.dml_log (node, kind, tbl, op, prop, old_content, new_content)
        VALUES (DATABASE(), 'dml', '${t}', '${op}', ${key}, ${row('OLD')}, ${row('NEW')})`;
    }),
  );
}

/** Install the triggers on one node. `withDdl`: PostgreSQL event triggers (never on the dump source). */
export async function instrumentNode(
  engine: DbEngine,
  database: string,
  logDb: string,
  withDdl: boolean,
): Promise<void> {
  await sql(
    engine,
    database,
    engine === 'postgres' ? pgInstrumentation(logDb, withDdl) : mysqlInstrumentation(logDb),
  );
}

/** Everything logged for these databases; on PostgreSQL only committed transactions. */
export async function readLog(engine: DbEngine, logDb: string, databases: string[]): Promise<LoggedChange[]> {
  const committed =
    engine === 'postgres' ? " AND (xid IS NULL OR txid_status(xid) IN ('committed', 'in progress'))" : '';
  const list = databases.map((_, i) => (engine === 'postgres' ? `$${i + 1}` : '?')).join(', ');
  const rows = await sql(
    engine,
    logDb,
    `SELECT id, at, node, kind, tbl, op, prop, old_content, new_content FROM dml_log WHERE node IN (${list})${committed} ORDER BY id`,
    databases,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(r.at as string),
    database: String(r.node),
    kind: r.kind as LoggedChange['kind'],
    table: (r.tbl as string | null) ?? null,
    op: String(r.op),
    key: (r.prop as string | null) ?? null,
    oldContent: (r.old_content as string | null) ?? null,
    newContent: (r.new_content as string | null) ?? null,
  }));
}
