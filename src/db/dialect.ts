import type { DbEngine } from '../config/topology';

/**
 * Quote an identifier the way the seeds' SQL needs on each engine: `system` is reserved on
 * MySQL 8, so backticks there; on PostgreSQL names stay unquoted so they fold to lower case
 * exactly as the seeds' statements do (quoting "ReplicatorIdTable" would break that).
 */
export function ident(engine: DbEngine, name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return engine === 'mysql' ? `\`${name}\`` : name;
}
