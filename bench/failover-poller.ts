/**
 * The external observer of bench:failover: it knows nothing of Recover or repmgr, only asks the
 * servers, so both are timed by the same yardstick. A fresh connection per check (a standby that
 * repmgr restarts drops any kept one); connection errors simply mean "not yet".
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import type { PgCluster, PgNode } from '../test/helpers/pg-cluster';

/** Between two rounds of checks: the resolution of every time this bench reports. */
export const POLL_MS = 50;
const CONNECT_MS = 1000;

async function query(cluster: PgCluster, node: PgNode, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({
    host: '127.0.0.1',
    port: node.port,
    user: cluster.user,
    database: 'postgres',
    connectionTimeoutMillis: CONNECT_MS,
    statement_timeout: CONNECT_MS,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Created before the crash, so every node has it: the observer's write proves a primary takes writes. */
export const POLL_TABLE_SQL = 'CREATE TABLE IF NOT EXISTS bench_poll (at timestamptz NOT NULL DEFAULT now())';

/** The timeline of a node that takes writes (a real INSERT commits first), or null. */
async function writableTimeline(cluster: PgCluster, node: PgNode): Promise<number | null> {
  try {
    const [role] = await query(cluster, node, 'SELECT pg_is_in_recovery() AS r');
    if (role?.r !== false) return null; // a standby: no write attempt, no error in its log
    await query(cluster, node, 'INSERT INTO bench_poll DEFAULT VALUES');
    const [tl] = await query(
      cluster,
      node,
      "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tl",
    );
    return Number(tl?.tl);
  } catch {
    return null;
  }
}

/** Whether a node is a standby streaming from `primary` on timeline `tl`. */
async function streamsFrom(cluster: PgCluster, node: PgNode, primary: PgNode, tl: number): Promise<boolean> {
  try {
    const rows = await query(
      cluster,
      node,
      'SELECT pg_is_in_recovery() AS r, w.status, w.received_tli, w.sender_port FROM pg_stat_wal_receiver w',
    );
    const r = rows[0];
    return (
      rows.length === 1 &&
      r?.r === true &&
      r.status === 'streaming' &&
      Number(r.received_tli) === tl &&
      Number(r.sender_port) === primary.port
    );
  } catch {
    return false;
  }
}

export interface Observed {
  /** performance.now() of the first round in which the condition held. */
  at: number;
  primary: string;
  timeline: number;
}

/**
 * Until one of `live` takes writes on a timeline above `oldTimeline` and every other node of
 * `live` streams from it on that timeline.
 */
export async function observeFailedOver(
  cluster: PgCluster,
  live: PgNode[],
  oldTimeline: number,
  timeoutMs = 300_000,
): Promise<Observed> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const round = performance.now();
    const tls = await Promise.all(live.map((n) => writableTimeline(cluster, n)));
    const i = tls.findIndex((tl) => tl !== null && tl > oldTimeline);
    if (i >= 0) {
      const primary = live[i]!;
      const tl = tls[i]!;
      const others = live.filter((n) => n !== primary);
      const ok = await Promise.all(others.map((n) => streamsFrom(cluster, n, primary, tl)));
      // Observed when the round that saw it ends: what an operator watching would see.
      if (ok.every(Boolean)) return { at: performance.now(), primary: primary.name, timeline: tl };
    }
    if (performance.now() > deadline) throw new Error('failover not observed in time');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, POLL_MS - (performance.now() - round))));
  }
}

/** Until `node` is a standby streaming from `primary` (any timeline the primary is on). */
export async function observeStreaming(
  cluster: PgCluster,
  node: PgNode,
  primary: PgNode,
  timeoutMs = 3_600_000,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const tl = await writableTimeline(cluster, primary);
    if (tl !== null && (await streamsFrom(cluster, node, primary, tl))) return performance.now();
    if (performance.now() > deadline) throw new Error(`${node.name} not streaming in time`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The timeline a primary is on now (before the crash). */
export async function currentTimeline(cluster: PgCluster, node: PgNode): Promise<number> {
  const tl = await writableTimeline(cluster, node);
  if (tl === null) throw new Error(`${node.name} does not take writes`);
  return tl;
}
