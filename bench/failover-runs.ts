/**
 * One repetition of each side of bench:failover, on a fresh primary + 2 standbys with the same
 * data: crash the primary (`pg_ctl stop -m immediate`), then either Recover's postgres-failover
 * or repmgr driven by hand (`standby promote` on the candidate, `standby follow` on the other).
 * Both clocks start when the crash has returned and stop when the external observer sees a new
 * primary taking writes with every surviving standby streaming from it on the new timeline.
 */
import { performance } from 'node:perf_hooks';
import { startPgCluster, type PgCluster } from '../test/helpers/pg-cluster';
import { setupRepmgr } from '../test/helpers/pg-repmgr';
import { pgTopology } from '../test/helpers/pg-topology';
import type { TestSshd } from '../test/helpers/sshd';
import { currentTimeline, observeFailedOver, POLL_TABLE_SQL } from './failover-poller';
import { breakdown, recoverEngine, runWithApprovals, type Breakdown } from './failover-recover';

/** Rows of the table every cluster gets before the crash (same data for both sides). */
const ROWS = 10_000;
const round = (x: number) => Math.round(x);

/** Live clusters, stopped by cleanup() if the bench is interrupted. */
export const liveClusters = new Set<PgCluster>();

export async function freshCluster(standbys = 2): Promise<PgCluster> {
  const c = await startPgCluster({ standbys });
  liveClusters.add(c);
  return c;
}

export async function dropCluster(c: PgCluster): Promise<void> {
  await c.stop();
  liveClusters.delete(c);
}

/** Same data on every cluster, repmgr's metadata included (so both sides start from one state). */
async function prepare(c: PgCluster) {
  await c.psql(c.primary, POLL_TABLE_SQL);
  await c.psql(c.primary, 'CREATE TABLE t (id int PRIMARY KEY, pad text)');
  await c.psql(c.primary, `INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, ${ROWS}) g`);
  const repmgr = await setupRepmgr(c);
  await c.waitForCatchUp();
  return { repmgr, timeline: await currentTimeline(c, c.primary) };
}

export interface RepmgrSample {
  ms: number;
  promoteMs: number;
  followMs: number;
  primary: string;
}

export async function repmgrOnce(): Promise<RepmgrSample> {
  const c = await freshCluster();
  try {
    const { repmgr, timeline } = await prepare(c);
    const [candidate, other] = c.standbys as [(typeof c.standbys)[0], (typeof c.standbys)[0]];
    await c.crash(c.primary);
    const t0 = performance.now();
    const observed = observeFailedOver(c, c.standbys, timeline);
    await repmgr.promoteManually(candidate);
    const promoted = performance.now();
    await repmgr.followManually(other, candidate);
    const followed = performance.now();
    const seen = await observed;
    return {
      ms: round(seen.at - t0),
      promoteMs: round(promoted - t0),
      followMs: round(followed - promoted),
      primary: seen.primary,
    };
  } finally {
    await dropCluster(c);
  }
}

export interface RecoverSample {
  /** Observed − start − approval waits: the number compared with repmgr. */
  ms: number;
  wallMs: number;
  approvalWaitMs: number;
  /** Run start → run finished (canary checked), approvals subtracted. */
  toRunEndMs: number | null;
  primary: string;
  observedAtMs: number;
  breakdown: Breakdown;
}

export async function recoverOnce(sshd: TestSshd, prefix: string): Promise<RecoverSample> {
  const c = await freshCluster();
  const topology = pgTopology(c, { sshd, name: 'benchfo' });
  const engine = await recoverEngine(topology, prefix);
  try {
    const { timeline } = await prepare(c);
    await c.crash(c.primary);
    const t0 = performance.now();
    const observed = observeFailedOver(c, c.standbys, timeline);
    const run = await runWithApprovals(engine, topology.name, 'postgres-failover', null);
    const seen = await observed;
    const state = await run.ended;
    if (state !== 'done') throw new Error(`postgres-failover ended ${state}`);
    const b = await breakdown(engine, run);
    // Both clocks: t0 (performance) and startedAtMs (Date, for the audit events) are taken together.
    const wallMs = seen.at - t0;
    return {
      ms: round(wallMs - b.approvalWaitTotalMs),
      wallMs: round(wallMs),
      approvalWaitMs: b.approvalWaitTotalMs,
      toRunEndMs: b.finishedMs === null ? null : b.finishedMs - b.approvalWaitTotalMs,
      primary: seen.primary,
      observedAtMs: round(wallMs),
      breakdown: b,
    };
  } finally {
    await engine.close();
    await dropCluster(c);
  }
}
