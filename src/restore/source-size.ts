import type { DbEngine } from '../config/topology';
import type { Db } from '../db/types';

/**
 * The size of the database a dump reads, for a restore's ETA: on-disk size, which a dump differs
 * from (no indexes, text instead of pages) — an estimate, shown as "~". null when it cannot be read.
 */
export async function sourceSizeBytes(db: Db, engine: DbEngine): Promise<number | null> {
  const sql =
    engine === 'postgres'
      ? 'SELECT pg_database_size(current_database()) AS bytes'
      : 'SELECT COALESCE(SUM(data_length), 0) AS bytes FROM information_schema.tables WHERE table_schema = DATABASE()';
  try {
    const r = await db.query(sql);
    const bytes = Number((r.rows[0] as { bytes?: unknown } | undefined)?.bytes);
    return Number.isFinite(bytes) && bytes > 0 ? bytes : null;
  } catch {
    return null;
  }
}
