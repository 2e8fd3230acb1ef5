import type { NodeRef, PgCluster } from './pg-cluster';

export interface LoadResult {
  rows: number;
  /** pg_database_size() after the load. */
  bytes: number;
  ms: number;
}

export interface LoadOptions {
  /** Stop once the database is at least this large (default 1 GiB, the rebuild benchmark's size). */
  bytes?: number;
  node?: NodeRef;
  /** Rows per INSERT … SELECT generate_series (each row ≈ 1 KB on disk). */
  chunkRows?: number;
}

/**
 * Grow the `postgres` database of a node (the primary by default) to `bytes` with rows of ~1 KB:
 * one INSERT … SELECT generate_series per chunk, then a CHECKPOINT so a base backup timed next
 * does not pay for the load's dirty buffers. The standbys replicate it like any other write.
 */
export async function loadDatabase(cluster: PgCluster, options: LoadOptions = {}): Promise<LoadResult> {
  const target = options.bytes ?? 1024 ** 3;
  const node = options.node ?? cluster.primary;
  const chunk = options.chunkRows ?? 100_000;
  const started = performance.now();
  await cluster.psql(node, 'CREATE TABLE IF NOT EXISTS bench (id bigint PRIMARY KEY, pad text NOT NULL)');
  const size = async () =>
    Number((await cluster.psql(node, 'SELECT pg_database_size(current_database()) AS n'))[0]?.n);
  let [{ n: rows } = { n: 0 }] = await cluster.psql(node, 'SELECT count(*)::int AS n FROM bench');
  let bytes = await size();
  while (bytes < target) {
    // md5 text repeated: 896 characters that neither TOAST nor WAL compression shrink much.
    await cluster.psql(
      node,
      'INSERT INTO bench SELECT g, repeat(md5(g::text), 28) FROM generate_series($1::bigint, $2::bigint) g',
      [Number(rows) + 1, Number(rows) + chunk],
    );
    rows = Number(rows) + chunk;
    bytes = await size();
  }
  await cluster.psql(node, 'CHECKPOINT');
  return { rows: Number(rows), bytes, ms: Math.round(performance.now() - started) };
}
