import { execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The demo cannot go on; `message` is one line saying what is missing and how to get it. */
export class DemoSetupError extends Error {
  readonly code = 'DEMO_SETUP';
  constructor(message: string) {
    super(message);
    this.name = 'DemoSetupError';
  }
}

/** The executable `name` on PATH, or null. */
export function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Root on Debian or Ubuntu: the demo may install what it lacks from the system's packages. */
function canAptInstall(): boolean {
  return process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
}

/**
 * `apt-get install` the packages (after `apt-get update` when the first try fails: a fresh
 * machine's package lists are often empty). Returns false when that is not possible here.
 */
export async function aptInstall(packages: string[], say: (line: string) => void): Promise<boolean> {
  if (!canAptInstall()) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env });
  say(`installing ${packages.join(', ')} with apt-get…`);
  try {
    await install();
    return true;
  } catch {
    try {
      await run('apt-get', ['update', '-qq'], { env });
      await install();
      return true;
    } catch {
      return false;
    }
  }
}

/** The major version a PostgreSQL client tool reports (`pg_dump (PostgreSQL) 15.20 …` → 15). */
export async function pgToolMajor(bin: string): Promise<number | null> {
  try {
    const { stdout } = await run(bin, ['--version']);
    const m = /(\d+)(?:\.\d+)?/.exec(stdout);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** A TCP port on loopback that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Ask a child to stop (redis-server: SIGTERM; PostgreSQL: SIGINT, its fast shutdown), SIGKILL after 10 s. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
