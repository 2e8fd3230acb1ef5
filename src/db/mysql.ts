import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import type { DbConfig } from '../config/topology';
import { classifyDbError } from './errors';
import type { Db, QueryResult, Row } from './types';

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

  return {
    engine: 'mysql',
    node,
    async query(sql, params = []): Promise<QueryResult> {
      const started = performance.now();
      try {
        // `timeout` is mysql2's client-side backstop: it destroys a connection whose server stopped answering.
        const [result] = await pool.query({
          sql,
          values: [...params],
          timeout: cfg.statementTimeoutMs + 1000,
        });
        const durationMs = performance.now() - started;
        if (Array.isArray(result)) return { rows: result as Row[], affectedRows: 0, durationMs };
        const header = result as { affectedRows?: number };
        return { rows: [], affectedRows: header.affectedRows ?? 0, durationMs };
      } catch (err) {
        throw classifyDbError(node, err);
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
