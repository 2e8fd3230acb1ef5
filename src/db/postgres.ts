import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { DbConfig } from '../config/topology';
import { classifyDbError } from './errors';
import { toPostgresPlaceholders } from './placeholders';
import type { Db, QueryResult } from './types';

// Keep BIGINT (int8) as a string: sequence numbers must not lose precision silently.
const readCommands = new Set(['SELECT', 'SHOW', 'EXPLAIN']);

type StreamOwner = { connection?: { stream?: { destroy(): void } } };

export function openPostgres(
  node: string,
  cfg: DbConfig,
  password: string | undefined,
  maxConnections: number,
): Db {
  const pool = new pg.Pool({
    host: cfg.host,
    port: cfg.port,
    database: cfg.database,
    user: cfg.user,
    password,
    max: maxConnections,
    connectionTimeoutMillis: cfg.connectTimeoutMs,
    statement_timeout: cfg.statementTimeoutMs,
    // Client-side backstop for a server that stops answering mid-query.
    query_timeout: cfg.statementTimeoutMs + 1000,
    idleTimeoutMillis: 10_000,
    application_name: 'recover',
    allowExitOnIdle: true,
  });
  // An idle client's connection dropping must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  // Track clients so close() can cut off one stuck in a query: pool.end() alone waits for it.
  const clients = new Set<pg.PoolClient>();
  pool.on('connect', (client) => {
    clients.add(client);
    client.on('error', () => undefined);
    client.once('end', () => clients.delete(client));
  });
  let closed = false;

  return {
    engine: 'postgres',
    node,
    async query(sql, params = []): Promise<QueryResult> {
      const started = performance.now();
      try {
        const result = await pool.query({ text: toPostgresPlaceholders(sql), values: [...params] });
        const isRead = readCommands.has(result.command);
        return {
          rows: result.rows,
          affectedRows: isRead ? 0 : (result.rowCount ?? 0),
          durationMs: performance.now() - started,
        };
      } catch (err) {
        throw classifyDbError(node, err);
      }
    },
    openConnections: () => clients.size,
    async close() {
      if (closed) return;
      closed = true;
      const ending = pool.end();
      // pg keeps clients that are still connecting only in a private list; without cutting those off,
      // closing waits out the connect timeout of a node that never answers.
      const all = (pool as unknown as { _clients?: pg.Client[] })._clients ?? [...clients];
      for (const client of all) (client as unknown as StreamOwner).connection?.stream?.destroy();
      await ending;
    },
  };
}
