import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOncePerMachine } from './machine-cache';
import { sshUser } from './sshd';

/** The Debian PostgreSQL 15 binaries (SYSTEMS.md §2.5). */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Run a PostgreSQL tool as the SSH test user: the clusters belong to that user, so the steps
 * Recover later runs over the test sshd (pg_ctl, pg_rewind, pg_basebackup) find them writable.
 */
export function runAsPgUser(
  tool: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const user = sshUser();
  const file = tool.startsWith('/') ? tool : join(PG_BIN, tool);
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      {
        cwd: options.cwd ?? tmpdir(),
        timeout: options.timeoutMs ?? 60_000,
        env: { PATH: `${PG_BIN}:/usr/bin:/bin`, HOME: tmpdir(), LANG: 'C.UTF-8', PGCONNECT_TIMEOUT: '5' },
        ...(user.dedicated ? { uid: user.uid, gid: user.gid } : {}),
      },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`${tool} ${args.join(' ')} failed: ${err.message}\n${stderr}`, { cause: err }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** Give a directory to the cluster user (no-op when the tests do not run as root). */
export function ownByPgUser(path: string): void {
  const { uid, gid, dedicated } = sshUser();
  if (dedicated) chownSync(path, uid, gid);
}

/** Settings every node of every test cluster shares; node-local ones are appended per node. */
const SHARED_CONF = [
  '# Recover test clusters (test/helpers/pg-template.ts)',
  "listen_addresses = '127.0.0.1'",
  'wal_level = replica',
  'archive_mode = on',
  'max_wal_senders = 10',
  "wal_keep_size = '64MB'",
  // Test data is disposable; fsync off makes every cluster start and checkpoint in milliseconds.
  'fsync = off',
  "shared_buffers = '16MB'",
  'max_connections = 40',
  'hot_standby = on',
  "log_line_prefix = '%m [%p] '",
  '',
].join('\n');

const HBA = [
  'local all all trust',
  'host all all 127.0.0.1/32 trust',
  'host replication all 127.0.0.1/32 trust',
  '',
].join('\n');

function pgVersion(): string {
  const out = execFileSync(join(PG_BIN, 'postgres'), ['--version']).toString();
  return /(\d+(?:\.\d+)?)/.exec(out)?.[1] ?? 'unknown';
}

let templateCache: string | undefined;

/**
 * The data directory every test cluster's primary is copied from: `initdb -k` (checksums, so
 * pg_rewind works) runs once per machine and PostgreSQL version. Two jest workers asking at once
 * serialise on a lock directory (mkdir is atomic); the second waits for the first's `ready` file.
 */
export async function pgTemplate(): Promise<string> {
  if (templateCache) return templateCache;
  const user = sshUser();
  const root = join(tmpdir(), `recover-pg-template-${pgVersion()}-${user.name}-v1`);
  const data = join(root, 'data');
  await buildOncePerMachine(root, 'PostgreSQL template', () => buildTemplate(root, data));
  return (templateCache = data);
}

async function buildTemplate(root: string, data: string): Promise<void> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { mode: 0o755 });
  ownByPgUser(root);
  // The bootstrap superuser is named after the OS user, so tests log in as `recover-test`.
  await runAsPgUser(
    'initdb',
    ['-D', data, '-k', '--no-sync', '-A', 'trust', '-E', 'UTF8', '--locale=C', '-U', sshUser().name],
    { cwd: root, timeoutMs: 120_000 },
  );
  const conf = join(data, 'postgresql.conf');
  writeFileSync(conf, `${readFileSync(conf, 'utf8')}\n${SHARED_CONF}`);
  writeFileSync(join(data, 'pg_hba.conf'), HBA);
}
