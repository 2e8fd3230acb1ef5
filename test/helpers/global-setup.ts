/**
 * Jest globalSetup: the integration tests use the real servers on loopback. Fail in one clear
 * line, before any test runs, when one of them does not answer.
 */
import Redis from 'ioredis';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { serviceUrls } from '../../src/config/env';

const TIMEOUT_MS = 2000;

async function checkPostgres(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkMysql(url: string): Promise<void> {
  const conn = await mysql.createConnection({ uri: url, connectTimeout: TIMEOUT_MS });
  try {
    await conn.query('SELECT 1');
  } finally {
    await conn.end().catch(() => undefined);
  }
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null, // one attempt: a down server must fail fast, not reconnect forever
  });
  let socketError: Error | undefined;
  redis.on('error', (err: Error) => (socketError ??= err));
  try {
    await redis.connect();
    const pong = await redis.ping();
    if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
  } catch (err) {
    throw socketError ?? err; // ioredis rejects with "Connection is closed"; the cause is more useful
  } finally {
    redis.disconnect();
  }
}

function where(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'its configured URL';
  }
}

export default async function globalSetup(): Promise<void> {
  const urls = serviceUrls();
  const checks: [string, string, (url: string) => Promise<void>][] = [
    ['PostgreSQL', urls.fleetPostgresUrl, checkPostgres],
    ['MariaDB', urls.fleetMysqlUrl, checkMysql],
    ['Redis', urls.redisUrl, checkRedis],
  ];
  const failures = await Promise.all(
    checks.map(async ([name, url, check]) => {
      try {
        await check(url);
        return undefined;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        return `${name} at ${where(url)} does not answer (${e.code ?? e.message})`;
      }
    }),
  );
  const failed = failures.filter((f): f is string => f !== undefined);
  if (failed.length > 0) {
    const error = new Error(`${failed.join('; ')}: run npm run services`);
    error.stack = error.message; // one line, no stack: the message is the whole story
    throw error;
  }
}
