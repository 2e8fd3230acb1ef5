import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeConfig, Topology } from '../config/topology';
import { TagPrefixSchema } from '../db/step-tag';
import type { Db, Row } from '../db/types';

/** Where cancelLeftovers gets each node's Db: the engine's DbRegistry fits. */
export interface DbSource {
  get(node: NodeConfig, topology: string): Db;
}

export interface CancelOptions {
  /** Per node, for finding, terminating and seeing the sessions gone. */
  timeoutMs?: number;
}

// Sessions of this database whose tag starts with the prefix; never our own.
const PG_FIND = `SELECT pid AS id, state, query AS info, pg_terminate_backend(pid) AS terminated
  FROM pg_catalog.pg_stat_activity
 WHERE left(application_name, length(?)) = ? AND datname = current_database() AND pid <> pg_backend_pid()`;
const PG_LEFT = `SELECT pid AS id FROM pg_catalog.pg_stat_activity WHERE pid = ANY(?)`;
// MariaDB: the tag leads the statement text (a comment). Only near the start, so that another
// session's query that merely mentions the tag (like this one) is never taken for a tagged one.
const MY_FIND = `SELECT ID AS id, STATE AS state, LEFT(INFO, 300) AS info FROM information_schema.PROCESSLIST
 WHERE ID <> CONNECTION_ID() AND DB = DATABASE() AND LOCATE(?, LEFT(INFO, 200)) BETWEEN 1 AND 64`;

/**
 * Ends what a dead (or given-up) step left running on the server before its outcome is declared
 * unknown: a DROP or UPDATE waiting for a lock would otherwise commit later, behind everyone's
 * back. PostgreSQL: pg_terminate_backend on sessions whose application_name starts with the tag
 * prefix. MariaDB: KILL CONNECTION on sessions whose statement starts with the tag comment (an
 * idle MariaDB session shows no statement, but holds no waiting statement either). A terminated
 * session's open transaction rolls back. Returns one line per node; never throws.
 */
export async function cancelLeftovers(
  topology: Topology,
  dbs: DbSource,
  nodeNames: readonly string[],
  tagPrefix: string,
  options: CancelOptions = {},
): Promise<string[]> {
  const prefix = TagPrefixSchema.parse(tagPrefix);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return Promise.all(
    nodeNames.map(async (name) => {
      const node = topology.nodes.find((n) => n.name === name);
      if (!node) return `${name}: not in topology ${topology.name}; not checked for leftovers`;
      // Reached only by commands (a MultiSite host): no SQL session of the step can be left, but
      // sshd does not end a command whose client vanished (no pty, no SIGHUP): say so.
      if (!node.db)
        return `${name}: no SQL session to cancel; a command the stopped worker started there over SSH may still be running until it ends`;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<string>((resolve) => {
        timer = setTimeout(
          () =>
            resolve(`${name}: could not check for leftover statements (no answer within ${timeoutMs} ms)`),
          timeoutMs,
        );
      });
      const work = cancelOn(dbs.get(node, topology.name), prefix, timeoutMs).catch(
        (err: unknown) =>
          `${name}: could not check for leftover statements (${err instanceof Error ? err.message : String(err)})`,
      );
      try {
        return await Promise.race([work, deadline]);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

async function cancelOn(db: Db, prefix: string, timeoutMs: number): Promise<string> {
  const found =
    db.engine === 'postgres'
      ? (await db.query(PG_FIND, [prefix, prefix])).rows
      : await killMysql(db, (await db.query(MY_FIND, [`/* ${prefix}`])).rows);
  if (found.length === 0) return `${db.node}: no leftover statements`;
  const ids = found.map((r) => Number(r.id));
  const gone = await waitGone(db, ids, Math.min(5000, timeoutMs / 2));
  const what = found.map((r) => shortSql(r.info)).join('; ');
  const n = found.length === 1 ? '1 statement' : `${found.length} statements`;
  return gone
    ? `${db.node}: cancelled ${n} (${what})`
    : `${db.node}: cancelled ${n} (${what}); still ending on the server`;
}

async function killMysql(db: Db, rows: Row[]): Promise<Row[]> {
  for (const r of rows) {
    // Gone meanwhile (finished, or killed by someone else): "Unknown thread id" is fine.
    await db.query('KILL CONNECTION ?', [Number(r.id)]).catch(() => undefined);
  }
  return rows;
}

/** True once none of the sessions is listed any more (their rollback is done). */
async function waitGone(db: Db, ids: number[], withinMs: number): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    const left =
      db.engine === 'postgres'
        ? (await db.query(PG_LEFT, [ids])).rows
        : (
            await db.query(
              `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID IN (${ids.map(() => '?').join(', ')})`,
              ids,
            )
          ).rows;
    if (left.length === 0) return true;
    if (Date.now() - started > withinMs) return false;
    await sleep(100);
  }
}

/** The statement without its tag comment, on one line, short. */
function shortSql(info: unknown): string {
  const text = String(info ?? '(idle)')
    .replace(/\/\*\s*recover\/[^*]*\*\/\s*/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 80 ? `${text.slice(0, 79)}…` : text || '(idle)';
}
