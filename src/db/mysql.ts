import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import type { DbConfig } from '../config/topology';
import { classifyDbError, DbError, type DbErrorCode } from './errors';
import { lockWaitSeconds, STEP_LOCK_TIMEOUT_MS, type SessionOptions } from './session-limits';
import { tagComment } from './step-tag';
import type { Db, QueryResult, Row } from './types';

type Queryable = Pick<mysql.Pool, 'query'> | Pick<mysql.PoolConnection, 'query'>;
const answered = new Set<DbErrorCode>(['QUERY', 'MISSING_OBJECT', 'AUTH', 'STATEMENT_TIMEOUT']);

export function openMysql(
  node: string,
  cfg: DbConfig,
  password: string | undefined,
  maxConnections: number,
): Db {
  const pool = mysql.createPool({
    host: cfg.host,
    port: cfg.port,
    database: cfg.database,
    user: cfg.user,
    password,
    connectionLimit: maxConnections,
    connectTimeout: cfg.connectTimeoutMs,
    // Return BIGINT and DECIMAL as strings: sequence numbers must not lose precision silently.
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    maxIdle: maxConnections,
    idleTimeout: 10_000,
    enableKeepAlive: false,
  });
  // Server-side statement limit: MariaDB's max_statement_time (seconds), MySQL's max_execution_time (ms).
  const open = new Set<object>();
  pool.pool.on('connection', (conn) => {
    open.add(conn);
    conn.once('end', () => open.delete(conn));
    conn.once('error', () => open.delete(conn));
    const seconds = cfg.statementTimeoutMs / 1000;
    conn.query(`SET SESSION max_statement_time = ${seconds}`, (err) => {
      if (err)
        conn.query(`SET SESSION max_execution_time = ${Math.ceil(cfg.statementTimeoutMs)}`, () => undefined);
    });
  });
  let closed = false;
  const runQuery = async (
    on: Queryable,
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<QueryResult> => {
    const started = performance.now();
    try {
      // `timeout` is mysql2's client-side backstop: it destroys a connection whose server stopped answering.
      const [result] = await on.query({ sql, values: [...params], timeout: cfg.statementTimeoutMs + 1000 });
      const durationMs = performance.now() - started;
      if (Array.isArray(result)) return { rows: result as Row[], affectedRows: 0, durationMs };
      const header = result as { affectedRows?: number };
      return { rows: [], affectedRows: header.affectedRows ?? 0, durationMs };
    } catch (err) {
      throw classifyDbError(node, err);
    }
  };

  return {
    engine: 'mysql',
    node,
    query: (sql, params = []) => runQuery(pool, sql, params),
    async session<T>(options: SessionOptions, fn: (db: Db) => Promise<T>): Promise<T> {
      let conn: mysql.PoolConnection;
      try {
        conn = await pool.getConnection();
      } catch (err) {
        throw classifyDbError(node, err);
      }
      // The tag leads every statement: MariaDB has no application_name, but PROCESSLIST.INFO shows this.
      const lead = options.tag === undefined ? '' : `${tagComment(options.tag)} `;
      let reusable = false;
      try {
        const seconds = lockWaitSeconds(options.lockTimeoutMs ?? STEP_LOCK_TIMEOUT_MS);
        await runQuery(conn, 'SET SESSION lock_wait_timeout = ?, innodb_lock_wait_timeout = ?', [
          seconds,
          seconds,
        ]);
        const result = await fn({
          engine: 'mysql',
          node,
          query: (sql, params = []) => runQuery(conn, lead + sql, params),
          openConnections: () => open.size,
          close: () => Promise.resolve(), // the pool owns the connection
        });
        reusable = true;
        return result;
      } catch (err) {
        reusable = err instanceof DbError && answered.has(err.code);
        throw err;
      } finally {
        // Back to the pool with the server's defaults; a session that cannot be reset is dropped.
        if (reusable)
          reusable = await runQuery(
            conn,
            'SET SESSION lock_wait_timeout = DEFAULT, innodb_lock_wait_timeout = DEFAULT, foreign_key_checks = DEFAULT',
          ).then(
            () => true,
            () => false,
          );
        if (reusable) conn.release();
        else conn.destroy();
      }
    },
    openConnections: () => open.size,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
