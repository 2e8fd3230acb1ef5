import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { aptInstall, DemoSetupError, freePort, onPath, stopProcess } from './system-tools';

export interface DemoRedis {
  url: string;
  /** Started by the demo (and stopped by it), or the user's own REDIS_URL. */
  owned: boolean;
  pid: number | undefined;
  stop(): Promise<void>;
}

const HOW_TO_GET_REDIS =
  'the demo needs Redis: set REDIS_URL=redis://HOST:PORT, or install redis-server ' +
  '(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) and run npm run demo again';

/**
 * Redis for the demo's queue: REDIS_URL when set; else redis-server from PATH on a free loopback
 * port (AOF on, noeviction, as production wants it); else installed from the system's packages
 * when that can be done here; else one line saying how to get it. There is no embedded Redis.
 */
export async function demoRedis(o: {
  redisUrl: string | undefined;
  /** Keys the demo leaves in a Redis it did not start are deleted when it stops. */
  prefix: string;
  env: NodeJS.ProcessEnv;
  dir: string;
  say: (line: string) => void;
}): Promise<DemoRedis> {
  if (o.redisUrl) {
    const url = o.redisUrl;
    await waitForRedis(url, 5000, null);
    return { url, owned: false, pid: undefined, stop: () => deleteKeys(url, o.prefix) };
  }
  let bin = onPath('redis-server', o.env);
  if (!bin && (await aptInstall(['redis-server'], o.say))) bin = onPath('redis-server', o.env);
  if (!bin) throw new DemoSetupError(HOW_TO_GET_REDIS);

  mkdirSync(o.dir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      o.dir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      '--logfile',
      join(o.dir, 'redis.log'),
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitForRedis(url, 10_000, child);
  } catch (err) {
    await stopProcess(child, 'SIGTERM');
    throw err;
  }
  return { url, owned: true, pid: child.pid, stop: () => stopProcess(child, 'SIGTERM') };
}

async function waitForRedis(url: string, withinMs: number, child: ChildProcess | null): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (child && child.exitCode !== null)
      throw new DemoSetupError(
        `redis-server exited at start (code ${child.exitCode}); see .demo/redis/redis.log`,
      );
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new DemoSetupError(`Redis at ${url} does not answer (${(err as Error).message})`);
    } finally {
      redis.disconnect();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
