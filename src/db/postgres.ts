import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { DbConfig } from '../config/topology';
import { classifyDbError, DbError, type DbErrorCode } from './errors';
import { toPostgresPlaceholders } from './placeholders';
import { CLIENT_CHECK_INTERVAL_MS, STEP_LOCK_TIMEOUT_MS, type SessionOptions } from './session-limits';
import type { Db, QueryResult } from './types';

// Keep BIGINT (int8) as a string: sequence numbers must not lose precision silently.
const readCommands = new Set(['SELECT', 'SHOW', 'EXPLAIN']);

type StreamOwner = { connection?: { stream?: { destroy(): void } } };
const answered = new Set<DbErrorCode>(['QUERY', 'MISSING_OBJECT', 'AUTH']);
type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

// One round trip. client_connection_check_interval exists from PostgreSQL 14 on; CASE skips it before.
const SESSION_SETUP = `SELECT set_config('application_name', $1, false), set_config('lock_timeout', $2, false),
  CASE WHEN current_setting('server_version_num')::int >= 140000
       THEN set_config('client_connection_check_interval', $3, false) END`;

async function runQuery(node: string, on: Queryable, sql: string, params: readonly unknown[]) {
  const started = performance.now();
  try {
    const result = await on.query({ text: toPostgresPlaceholders(sql), values: [...params] });
    const isRead = readCommands.has(result.command);
    return {
      rows: result.rows,
      affectedRows: isRead ? 0 : (result.rowCount ?? 0),
      durationMs: performance.now() - started,
    };
  } catch (err) {
    throw classifyDbError(node, err);
  }
}

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
    query: (sql, params = []): Promise<QueryResult> => runQuery(node, pool, sql, params),
    async session<T>(options: SessionOptions, fn: (db: Db) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw classifyDbError(node, err);
      }
      // Reset and reuse only a session whose server answered; one cut off mid-query is dropped.
      let reusable = false;
      try {
        const lockMs = options.lockTimeoutMs ?? STEP_LOCK_TIMEOUT_MS;
        await runQuery(node, client, SESSION_SETUP, [
          options.tag ?? 'recover',
          `${lockMs}ms`,
          `${CLIENT_CHECK_INTERVAL_MS}ms`,
        ]);
        const result = await fn({
          engine: 'postgres',
          node,
          query: (sql, params = []) => runQuery(node, client, sql, params),
          openConnections: () => clients.size,
          close: () => Promise.resolve(), // the pool owns the connection
        });
        reusable = true;
        return result;
      } catch (err) {
        reusable = err instanceof DbError && answered.has(err.code);
        throw err;
      } finally {
        // Back to the pool as it came (startup values: application_name 'recover', the statement timeout).
        if (reusable)
          reusable = await client.query('DISCARD ALL').then(
            () => true,
            () => false,
          );
        client.release(!reusable);
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
