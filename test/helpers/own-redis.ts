import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { closedPort } from './blackhole';

/** A private redis-server on a free loopback port, in a temporary directory (PITFALLS: the shared one keeps nothing). */
export interface OwnRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stop it and delete its directory. */
  destroy(): Promise<void>;
}

/**
 * ioredis's disconnect() arms a timer (2 s by default) that waits for the socket's close; a socket
 * already closed (a refused probe, a SHUTDOWN) never closes again, so the timer ran to the end and
 * kept the jest worker alive past its last test ("a worker process has failed to exit gracefully").
 */
const SHORT_DISCONNECT_MS = 50;

export async function ownRedis(extraArgs: string[]): Promise<OwnRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'recover-redis-'));
  const port = await closedPort();
  const start = async () => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--daemonize',
      'yes',
      '--pidfile',
      join(dir, 'redis.pid'),
      ...extraArgs,
    ];
    const child = spawn('redis-server', args);
    await new Promise((resolve) => child.on('exit', resolve));
    // --daemonize returns before the server listens: poll until it answers (bounded).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        disconnectTimeout: SHORT_DISCONNECT_MS,
      });
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        probe.disconnect();
      }
    }
  };
  const stop = async () => {
    // No retries: ioredis would otherwise resend SHUTDOWN after every reconnect attempt.
    const redis = new Redis(port, '127.0.0.1', {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      disconnectTimeout: SHORT_DISCONNECT_MS,
    });
    await redis.call('SHUTDOWN').catch(() => undefined); // the connection drops as Redis exits
    redis.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 300));
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
