import { ident } from '../../db/dialect';
import { DbError } from '../../db/errors';
import type { Db } from '../../db/types';

export interface HoldingsOptions {
  /** For the whole look; past it the node is reported as not answering. */
  timeoutMs?: number;
}

const TABLES = {
  postgres: `SELECT tablename AS name FROM pg_catalog.pg_tables WHERE schemaname = 'public'`,
  mysql: `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()`,
};

/**
 * One line on what a node's database holds right now, for a halt message after a step whose
 * outcome is unknown: "rls-3 holds 4 tables; changelog up to 1042; replicator_remote 1042;
 * ReplicatorIdTable 0 rows", "rls-3: schema is empty", "rls-3: unreachable (ECONNREFUSED)".
 * Never throws. Reads only; a half-imported schema (some tables missing) is described as it is.
 */
export async function describeHoldings(db: Db, options: HoldingsOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${db.node}: no answer within ${timeoutMs} ms`), timeoutMs);
  });
  const look = read(db).catch((err: unknown) => `${db.node}: ${problem(err)}`);
  try {
    return await Promise.race([look, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function read(db: Db): Promise<string> {
  const names = (await db.query(TABLES[db.engine])).rows.map((r) => String(r.name));
  if (names.length === 0) return `${db.node}: schema is empty`;
  const has = (t: string) => names.some((n) => n.toLowerCase() === t.toLowerCase());
  const t = (name: string) => ident(db.engine, name);
  const parts = [`${db.node} holds ${names.length} table${names.length === 1 ? '' : 's'}`];

  if (!has('changelog')) parts.push('no changelog table');
  else {
    const max = (await db.query(`SELECT max(sequenceno) AS n FROM ${t('changelog')}`)).rows[0]?.n;
    parts.push(max == null ? 'changelog empty' : `changelog up to ${String(max)}`);
  }
  if (!has('system')) parts.push('no system table');
  else {
    const rows = (
      await db.query(`SELECT content FROM ${t('system')} WHERE property = ?`, ['replicator_remote'])
    ).rows;
    parts.push(rows[0] ? `replicator_remote ${String(rows[0].content)}` : 'no replicator_remote');
  }
  if (!has('ReplicatorIdTable')) parts.push('no ReplicatorIdTable');
  else {
    const n = Number((await db.query(`SELECT COUNT(*) AS n FROM ${t('ReplicatorIdTable')}`)).rows[0]?.n);
    parts.push(`ReplicatorIdTable ${n} row${n === 1 ? '' : 's'}`);
  }
  return parts.join('; ');
}

function problem(err: unknown): string {
  if (err instanceof DbError) {
    if (err.code === 'REFUSED') return `unreachable (${err.driverCode ?? err.message})`;
    if (err.code === 'CONNECT_TIMEOUT') return 'unreachable (connect timed out)';
    if (err.code === 'AUTH') return `cannot read (${err.message})`;
    return `cannot read: ${err.message}`;
  }
  return `cannot read: ${err instanceof Error ? err.message : String(err)}`;
}
