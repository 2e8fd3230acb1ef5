import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { secretFromEnv } from '../config/env';
import type { DbEngine, SqlNode } from '../config/topology';
import { lockWaitSeconds, RESTORE_LOCK_TIMEOUT_MS } from '../db/session-limits';
import { tagComment } from '../db/step-tag';

/** A misconfiguration found before anything runs: missing tool, missing password, wrong pair of nodes. */
export class DumpRestoreError extends Error {
  override name = 'DumpRestoreError';
  constructor(
    readonly code: 'TOOL_NOT_FOUND' | 'MISSING_PASSWORD' | 'ENGINE_MISMATCH' | 'SAME_DATABASE',
    message: string,
  ) {
    super(message);
  }
}

/** Absolute paths of the two client programs for one engine. */
export interface ResolvedTools {
  dump: string;
  restore: string;
  /** The SQL client that clears the target first (psql; mariadb is its own). Found when absent. */
  client?: string;
}

/**
 * One side of the stream as argv plus the child's complete environment. The environment is
 * not inherited from the bot (its Slack tokens have no business in a pg_dump); passwords go
 * only here, never into argv, where `ps` would show them.
 */
export interface ToolCommand {
  /** Short program name for messages: pg_dump, mariadb-dump, … */
  tool: string;
  argv: string[];
  env: Record<string, string>;
}

const DEFAULT_CHILD_PATH = '/usr/local/bin:/usr/bin:/bin';
const PG_LIB_DIR = '/usr/lib/postgresql';

// Preferred first: MariaDB ≥ 11 warns when called by its mysql* names; MySQL only has those.
const CANDIDATES: Record<DbEngine, { dump: string[]; restore: string[] }> = {
  postgres: { dump: ['pg_dump'], restore: ['pg_restore'] },
  mysql: { dump: ['mariadb-dump', 'mysqldump'], restore: ['mariadb', 'mysql'] },
};

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Debian keeps every installed PostgreSQL's tools here; the newest dumps older servers too. */
function pgLibDirs(): string[] {
  try {
    return readdirSync(PG_LIB_DIR)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => join(PG_LIB_DIR, v, 'bin'));
  } catch {
    return [];
  }
}

function findTool(engine: DbEngine, names: string[], dirs: string[]): string {
  for (const name of names) {
    for (const dir of dirs) {
      const file = join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  throw new DumpRestoreError(
    'TOOL_NOT_FOUND',
    `${names.join(' or ')} not found in PATH${engine === 'postgres' ? ` or ${PG_LIB_DIR}/*/bin` : ''}`,
  );
}

const toolCache = new Map<string, ResolvedTools>();

/** Finds the client programs once per engine and PATH: PATH first, then PostgreSQL's versioned dirs. */
export function resolveTools(engine: DbEngine, pathEnv: string | undefined): ResolvedTools {
  const key = `${engine}\0${pathEnv ?? ''}`;
  const cached = toolCache.get(key);
  if (cached) return cached;
  const dirs = (pathEnv ?? DEFAULT_CHILD_PATH).split(':').filter((d) => d.startsWith('/'));
  if (engine === 'postgres') dirs.push(...pgLibDirs());
  const names = CANDIDATES[engine];
  const restore = findTool(engine, names.restore, dirs);
  const tools = {
    dump: findTool(engine, names.dump, dirs),
    restore,
    client: clientTool(engine, restore, dirs),
  };
  toolCache.set(key, tools);
  return tools;
}

/** psql from the same installation as pg_restore when there is one; MariaDB's client is the restore's. */
function clientTool(engine: DbEngine, restore: string, dirs: string[]): string {
  if (engine === 'mysql') return restore;
  const beside = join(dirname(restore), 'psql');
  return isExecutable(beside) ? beside : findTool(engine, ['psql'], dirs);
}

/** The node's password from its passwordEnv; a named but unset variable is an error, not "no password". */
export function passwordFor(node: SqlNode, env: NodeJS.ProcessEnv): string | undefined {
  const password = secretFromEnv(node.db.passwordEnv, env);
  if (node.db.passwordEnv && password === undefined)
    throw new DumpRestoreError('MISSING_PASSWORD', `${node.name}: ${node.db.passwordEnv} is not set`);
  return password;
}

function baseName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}

function childEnv(
  node: SqlNode,
  password: string | undefined,
  path: string | undefined,
  tag: string | undefined,
  side: 'dump' | 'restore',
) {
  const env: Record<string, string> = { PATH: path ?? DEFAULT_CHILD_PATH };
  if (node.db.engine === 'postgres') {
    // libpq's connect timeout is whole seconds, at least 2.
    env.PGCONNECT_TIMEOUT = String(Math.max(2, Math.ceil(node.db.connectTimeoutMs / 1000)));
    // The step's tag: cancelLeftovers finds the sessions by it after a worker died.
    env.PGAPPNAME = tag ?? 'recover';
    if (side === 'restore') env.PGOPTIONS = `-c lock_timeout=${RESTORE_LOCK_TIMEOUT_MS}`;
    if (password !== undefined) env.PGPASSWORD = password;
  } else if (password !== undefined) {
    env.MYSQL_PWD = password;
  }
  return env;
}

/** Connection arguments. `--no-password`: never prompt on the bot's terminal and hang. `--protocol=TCP`: "localhost" must not mean a socket. */
function connectArgs(node: SqlNode): string[] {
  const { host, port, user } = node.db;
  return node.db.engine === 'postgres'
    ? ['--no-password', '-h', host, '-p', String(port), '-U', user]
    : ['--protocol=TCP', '-h', host, '-P', String(port), '-u', user];
}

/** The source side: an online, consistent dump to stdout (custom format for PostgreSQL). */
export function dumpCommand(
  node: SqlNode,
  tools: ResolvedTools,
  password: string | undefined,
  path?: string,
  tag?: string,
): ToolCommand {
  const argv =
    node.db.engine === 'postgres'
      ? [
          tools.dump,
          '--format=custom',
          '--no-owner',
          '--no-privileges',
          ...connectArgs(node),
          '-d',
          node.db.database,
        ]
      : [
          tools.dump,
          '--single-transaction',
          '--routines',
          '--triggers',
          '--hex-blob',
          // No "--" comment lines: every statement then starts a line, where the restore's tag goes.
          '--skip-comments',
          ...connectArgs(node),
          node.db.database,
        ];
  return { tool: baseName(tools.dump), argv, env: childEnv(node, password, path, tag, 'dump') };
}

/** MariaDB's client: keep comments (the tag), bound its lock waits (no application_name there). */
function mysqlClientArgs(): string[] {
  const s = lockWaitSeconds(RESTORE_LOCK_TIMEOUT_MS);
  return [
    '--comments',
    `--init-command=SET SESSION lock_wait_timeout = ${s}, innodb_lock_wait_timeout = ${s}`,
  ];
}

/**
 * The target side, reading the dump from stdin. pg_restore stays single-threaded (-j needs a file)
 * and runs as one transaction: cut off anywhere, it leaves nothing behind.
 */
export function restoreCommand(
  node: SqlNode,
  tools: ResolvedTools,
  password: string | undefined,
  path?: string,
  tag?: string,
): ToolCommand {
  const argv =
    node.db.engine === 'postgres'
      ? [
          tools.restore,
          '--no-owner',
          '--no-privileges',
          '--exit-on-error',
          '--single-transaction',
          ...connectArgs(node),
          '-d',
          node.db.database,
        ]
      : [tools.restore, ...mysqlClientArgs(), ...connectArgs(node), node.db.database];
  return { tool: baseName(tools.restore), argv, env: childEnv(node, password, path, tag, 'restore') };
}

/** Building commands never fails for want of psql: a missing one fails when run, with its name. */
function clientOrName(engine: DbEngine, restore: string, path: string | undefined): string {
  try {
    return clientTool(engine, restore, (path ?? DEFAULT_CHILD_PATH).split(':'));
  } catch {
    return 'psql';
  }
}

/** The client that clears the target before the restore, reading clearScript() on stdin. */
export function clearCommand(
  node: SqlNode,
  tools: ResolvedTools,
  password: string | undefined,
  path?: string,
  tag?: string,
): ToolCommand {
  const client = tools.client ?? clientOrName(node.db.engine, tools.restore, path);
  const argv =
    node.db.engine === 'postgres'
      ? [client, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...connectArgs(node), '-d', node.db.database]
      : // --batch: a script, not a dump; it also tells the clear from the import in a process list.
        [client, '--batch', ...mysqlClientArgs(), ...connectArgs(node), node.db.database];
  return { tool: baseName(client), argv, env: childEnv(node, password, path, tag, 'restore') };
}

/**
 * What makes a retry after a partial import safe: the target's schema emptied first, so the
 * import starts from nothing whatever an earlier attempt left. PostgreSQL: schema public dropped
 * and recreated in one transaction (a client that dies mid-way commits nothing). MariaDB/MySQL:
 * every table and view dropped (DDL commits by itself; running it again is harmless). Routines
 * stay: the dump drops and recreates its own, and they hold no rows.
 */
export function clearScript(engine: DbEngine, tag?: string): string {
  if (engine === 'postgres')
    return [
      'BEGIN;',
      'DROP SCHEMA IF EXISTS public CASCADE;',
      'CREATE SCHEMA public;',
      'GRANT USAGE ON SCHEMA public TO PUBLIC;',
      'COMMIT;',
      '',
    ].join('\n');
  const c = tag === undefined ? '' : `${tagComment(tag)} `;
  const list = (where: string) =>
    `(SELECT GROUP_CONCAT('\`', REPLACE(table_name, '\`', '\`\`'), '\`' SEPARATOR ', ') ` +
    `FROM information_schema.tables WHERE table_schema = DATABASE() AND ${where})`;
  const drop = (kind: string, where: string) => [
    `${c}SET @recover_names = ${list(where)};`,
    `${c}SET @recover_sql = IF(@recover_names IS NULL, 'DO 0', CONCAT('${c}DROP ${kind} IF EXISTS ', @recover_names));`,
    `${c}PREPARE recover_clear FROM @recover_sql;`,
    `${c}EXECUTE recover_clear;`,
    `${c}DEALLOCATE PREPARE recover_clear;`,
  ];
  return [
    `${c}SET SESSION foreign_key_checks = 0, group_concat_max_len = 67108864;`,
    ...drop('VIEW', "table_type = 'VIEW'"),
    ...drop('TABLE', "table_type <> 'VIEW'"),
    '',
  ].join('\n');
}

/** Checks the pair and builds both sides; throws DumpRestoreError before anything is spawned. */
export function buildDumpRestore(
  source: SqlNode,
  target: SqlNode,
  env: NodeJS.ProcessEnv,
  tools?: ResolvedTools,
  tag?: string,
): { dump: ToolCommand; restore: ToolCommand; clear: ToolCommand } {
  if (source.db.engine !== target.db.engine)
    throw new DumpRestoreError(
      'ENGINE_MISMATCH',
      `cannot stream a ${source.db.engine} dump of ${source.name} into ${target.db.engine} on ${target.name}: engines must match`,
    );
  const s = source.db;
  const t = target.db;
  if (s.host === t.host && s.port === t.port && s.database === t.database)
    throw new DumpRestoreError('SAME_DATABASE', `${source.name} and ${target.name} are the same database`);
  const resolved = tools ?? resolveTools(source.db.engine, env.PATH);
  const targetPassword = passwordFor(target, env);
  return {
    dump: dumpCommand(source, resolved, passwordFor(source, env), env.PATH, tag),
    restore: restoreCommand(target, resolved, targetPassword, env.PATH, tag),
    clear: clearCommand(target, resolved, targetPassword, env.PATH, tag),
  };
}
