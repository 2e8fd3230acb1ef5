import { performance } from 'node:perf_hooks';
import type { DbEngine, SqlNode } from '../config/topology';
import type { Db } from '../db/types';

/** Refused before anything was dropped: wrong Db for the node, or a name we will not splice into SQL. */
export class SchemaError extends Error {
  override name = 'SchemaError';
  constructor(
    readonly code: 'WRONG_NODE' | 'UNSAFE_IDENTIFIER',
    message: string,
  ) {
    super(message);
  }
}

export interface DroppedObject {
  kind: 'table' | 'view' | 'sequence' | 'materialized view' | 'foreign table' | 'procedure' | 'function';
  name: string;
}

export interface DroppedSchema {
  node: string;
  engine: DbEngine;
  database: string;
  /** What existed before the drop (PostgreSQL: relations of schema public). */
  dropped: DroppedObject[];
  /** Every statement that ran, in order, for the step's record. */
  statements: string[];
  durationMs: number;
}

const PG_KINDS: Record<string, DroppedObject['kind']> = {
  r: 'table',
  p: 'table',
  v: 'view',
  m: 'materialized view',
  S: 'sequence',
  f: 'foreign table',
};

// One simple-protocol query is one implicit transaction: the schema is either replaced or untouched.
// USAGE for PUBLIC is PostgreSQL 15's default for public; the owner becomes the restoring user.
const PG_RECREATE =
  'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public; GRANT USAGE ON SCHEMA public TO PUBLIC';

/**
 * Seed 000/001 "Delete the full database schema", as its own destructive step before the import.
 * PostgreSQL: schema public is dropped and recreated empty. MySQL/MariaDB: every table, view and
 * routine of the database is dropped, the database itself stays (the user may not be allowed to
 * create one).
 */
export async function dropAndRecreateSchema(target: SqlNode, db: Db): Promise<DroppedSchema> {
  if (db.node !== target.name || db.engine !== target.db.engine)
    throw new SchemaError(
      'WRONG_NODE',
      `database handle is for ${db.node} (${db.engine}), not ${target.name}`,
    );
  const started = performance.now();
  const statements: string[] = [];
  const run = async (sql: string, params: unknown[] = []) => {
    statements.push(sql);
    return (await db.query(sql, params)).rows;
  };
  const dropped = target.db.engine === 'postgres' ? await dropPostgres(run) : await dropMysql(run, target);
  return {
    node: target.name,
    engine: target.db.engine,
    database: target.db.database,
    dropped,
    statements,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
  };
}

type Run = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

async function dropPostgres(run: Run): Promise<DroppedObject[]> {
  const rows = await run(
    `SELECT c.relname AS name, c.relkind AS kind FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
      ORDER BY c.relname`,
  );
  await run(PG_RECREATE);
  return rows.map((r) => ({ kind: PG_KINDS[String(r.kind)] ?? 'table', name: String(r.name) }));
}

function quoted(name: string): string {
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(name))
    throw new SchemaError('UNSAFE_IDENTIFIER', `refusing to drop "${name}": not a plain identifier`);
  return `\`${name}\``;
}

/** Children before their parents, so the drops also succeed on a pooled session where the FK switch did not stick. */
function childrenFirst(tables: string[], refs: { child: string; parent: string }[]): string[] {
  const left = new Set(tables);
  const order: string[] = [];
  while (left.size > 0) {
    const free = [...left].filter(
      (t) => !refs.some((r) => r.parent === t && r.child !== t && left.has(r.child)),
    );
    // A cycle: FOREIGN_KEY_CHECKS=0 has to carry it.
    const next = free.length > 0 ? free : [...left];
    for (const t of next) {
      left.delete(t);
      order.push(t);
    }
  }
  return order;
}

async function dropMysql(run: Run, target: SqlNode): Promise<DroppedObject[]> {
  const schema = target.db.database;
  const objects = await run(
    `SELECT table_name AS name, table_type AS type FROM information_schema.tables
      WHERE table_schema = ? ORDER BY table_name`,
    [schema],
  );
  const routines = await run(
    `SELECT routine_name AS name, routine_type AS type FROM information_schema.routines
      WHERE routine_schema = ? ORDER BY routine_name`,
    [schema],
  );
  const refs = await run(
    `SELECT table_name AS child, referenced_table_name AS parent FROM information_schema.referential_constraints
      WHERE constraint_schema = ? AND unique_constraint_schema = ?`,
    [schema, schema],
  );
  // Validate every name before the first drop: all or nothing on bad input.
  const views = objects.filter((o) => o.type === 'VIEW').map((o) => String(o.name));
  const sequences = new Set(objects.filter((o) => o.type === 'SEQUENCE').map((o) => String(o.name)));
  const tables = objects.filter((o) => o.type !== 'VIEW').map((o) => String(o.name));
  [...views, ...tables, ...routines.map((r) => String(r.name))].forEach(quoted);
  const ordered = childrenFirst(
    tables,
    refs.map((r) => ({ child: String(r.child), parent: String(r.parent) })),
  );

  const dropped: DroppedObject[] = [];
  await run('SET SESSION FOREIGN_KEY_CHECKS = 0');
  try {
    for (const v of views) {
      await run(`DROP VIEW IF EXISTS ${quoted(v)}`);
      dropped.push({ kind: 'view', name: v });
    }
    for (const t of ordered) {
      await run(`DROP TABLE IF EXISTS ${quoted(t)}`);
      dropped.push({ kind: sequences.has(t) ? 'sequence' : 'table', name: t });
    }
    for (const r of routines) {
      const kind = r.type === 'FUNCTION' ? 'function' : 'procedure';
      await run(`DROP ${kind.toUpperCase()} IF EXISTS ${quoted(String(r.name))}`);
      dropped.push({ kind, name: String(r.name) });
    }
  } finally {
    // The session goes back to a pool: later steps must get foreign key checks again.
    await run('SET SESSION FOREIGN_KEY_CHECKS = 1').catch(() => undefined);
  }
  return dropped;
}
