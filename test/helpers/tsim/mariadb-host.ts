import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOncePerMachine } from '../machine-cache';
import { asSshUser, shareWithSshUser, sshUser } from '../sshd';

const MARIADBD = '/usr/sbin/mariadbd';
const ADMIN = '/usr/bin/mariadb-admin';
const INSTALL_DB = '/usr/bin/mariadb-install-db';

/** Server options every tsim host shares; the per-host ones (port, server id, paths) are added. */
const SHARED_OPTIONS = [
  '--no-defaults',
  '--bind-address=127.0.0.1',
  '--skip-name-resolve',
  // root with no password over TCP, as the repo's MariaDB fixtures use it.
  '--skip-grant-tables',
  '--innodb-buffer-pool-size=16M',
  '--innodb-log-file-size=8M',
  '--log-bin=mysql-bin',
  '--binlog-format=MIXED',
  '--max-connections=60',
];

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export function run(
  file: string,
  args: string[],
  options: { asUser?: boolean; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        timeout: 60_000,
        env: { PATH: '/usr/sbin:/usr/bin:/bin', HOME: tmpdir(), LANG: 'C.UTF-8' },
        cwd: tmpdir(),
        ...(options.asUser ? asSshUser() : {}),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

let templateCache: string | undefined;

/** A datadir made by mariadb-install-db once per machine, copied per host (like pg-template.ts). */
export async function mariadbTemplate(): Promise<string> {
  if (templateCache) return templateCache;
  const user = sshUser();
  const root = join(tmpdir(), `recover-mariadb-template-${user.name}-v1`);
  const data = join(root, 'data');
  await buildOncePerMachine(root, 'MariaDB template', async () => {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { mode: 0o755 });
    shareWithSshUser(root);
    const r = await run(
      INSTALL_DB,
      [
        '--no-defaults',
        `--datadir=${data}`,
        '--skip-test-db',
        '--skip-name-resolve',
        '--innodb-log-file-size=8M',
      ],
      { asUser: true },
    );
    if (r.code !== 0) throw new Error(`mariadb-install-db failed: ${r.stderr}${r.stdout}`);
  });
  return (templateCache = data);
}

export interface DbInstance {
  port: number;
  serverId: number;
  dataDir: string;
  pidFile: string;
  errorLog: string;
  /** `${binDir}/tsim-db start|stop|status`, runnable over SSH by the test user. */
  script: string;
  /** when this file exists `tsim-db start` fails: the "MariaDB won't start after restore" fault */
  brokenFlag: string;
}

function serverArgs(db: Omit<DbInstance, 'script' | 'brokenFlag'>, socket: string): string[] {
  return [
    ...SHARED_OPTIONS,
    `--datadir=${db.dataDir}`,
    `--port=${db.port}`,
    `--socket=${socket}`,
    `--pid-file=${db.pidFile}`,
    `--log-error=${db.errorLog}`,
    `--server-id=${db.serverId}`,
  ];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Copy the template into `dir/data` and write `binDir/tsim-db`. The script starts mariadbd
 * detached (setsid, stdio to /dev/null) so an SSH session that ran it can end, and so stopping
 * that host's sshd does not take the database down with it.
 */
export async function prepareDb(
  dir: string,
  binDir: string,
  port: number,
  serverId: number,
): Promise<DbInstance> {
  const template = await mariadbTemplate();
  const dataDir = join(dir, 'data');
  const r = await run('/bin/cp', ['-a', '--sparse=always', template, dataDir]);
  if (r.code !== 0) throw new Error(`copying the MariaDB template failed: ${r.stderr}`);
  const db = {
    port,
    serverId,
    dataDir,
    pidFile: join(dir, 'mariadbd.pid'),
    errorLog: join(dir, 'mariadbd.err'),
  };
  const socket = join(dir, 'mariadbd.sock');
  const script = join(binDir, 'tsim-db');
  const brokenFlag = join(dir, 'tsim-db.broken');
  const admin = `${ADMIN} --protocol=TCP -h 127.0.0.1 -P ${port} -u root --connect-timeout=2`;
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      "# tsim (test/helpers/tsim): start|stop|status of this host's mariadbd. sim-defined.",
      `PIDFILE=${q(db.pidFile)}`,
      'case "$1" in',
      'start)',
      `  if ${admin} ping >/dev/null 2>&1; then echo "mariadbd is already running"; exit 0; fi`,
      `  if [ -e ${q(brokenFlag)} ]; then echo "mariadbd failed to start: see ${db.errorLog}" >&2; exit 1; fi`,
      `  setsid ${MARIADBD} ${serverArgs(db, socket).map(q).join(' ')} </dev/null >/dev/null 2>&1 &`,
      '  i=0',
      '  while [ $i -lt 300 ]; do',
      `    if ${admin} ping >/dev/null 2>&1; then echo "mariadbd started"; exit 0; fi`,
      '    i=$((i+1)); sleep 0.1',
      '  done',
      `  echo "mariadbd did not start within 30 s: see ${db.errorLog}" >&2; exit 1 ;;`,
      'stop)',
      `  ${admin} shutdown >/dev/null 2>&1`,
      '  i=0',
      '  while [ -e "$PIDFILE" ] && [ $i -lt 300 ]; do i=$((i+1)); sleep 0.1; done',
      '  if [ -e "$PIDFILE" ]; then echo "mariadbd did not stop" >&2; exit 1; fi',
      '  echo "mariadbd stopped"; exit 0 ;;',
      'restore)',
      '  # stop, start, load a logical dump, restart: the docs\' "stop the server, restore, start it" for a dump',
      '  [ -r "$2" ] || { echo "usage: tsim-db restore FILE (readable)" >&2; exit 1; }',
      '  "$0" stop >/dev/null || exit 1',
      '  "$0" start >/dev/null || exit 1',
      `  /usr/bin/mariadb --protocol=TCP -h 127.0.0.1 -P ${port} -u root < "$2" || exit 1`,
      '  "$0" stop >/dev/null || exit 1',
      '  "$0" start >/dev/null || exit 1',
      '  echo "restored $2"; exit 0 ;;',
      'status)',
      `  if ${admin} ping >/dev/null 2>&1; then echo "running"; exit 0; fi`,
      '  echo "stopped"; exit 3 ;;',
      '*) echo "usage: tsim-db start|stop|status|restore FILE" >&2; exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(script, 0o755);
  shareWithSshUser(dir);
  shareWithSshUser(binDir);
  return { ...db, script, brokenFlag };
}

export async function dbCommand(db: DbInstance, command: 'start' | 'stop' | 'status'): Promise<RunResult> {
  return run(db.script, [command], { asUser: true });
}

/** Last resort at close(): SIGKILL the pid in the pid file (never by process name). */
export function killDb(db: DbInstance): void {
  try {
    const pid = Number(readFileSync(db.pidFile, 'utf8').trim());
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    // not running
  }
}
