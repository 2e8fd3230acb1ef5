/**
 * The rebuild half of bench:failover: a primary + 1 standby grown to ~1 GiB (loadDatabase), the
 * primary crashed and the standby promoted by hand (the failover itself is timed elsewhere), then
 * the old primary rebuilt as a standby twice, each from a stopped node until the observer sees it
 * streaming from the new primary:
 *  (a) Recover's postgres-rebuild-standby (pg_rewind applies: the old primary has nothing past the
 *      fork), approvals subtracted;
 *  (b) a plain `pg_basebackup -R -X stream -c fast` of the same node, its port and cluster_name
 *      appended, `pg_ctl start` (emptying the data directory first is timed apart and left out).
 * One repetition each: the load dominates the bench's time, and after (b) there is nothing left
 * for pg_rewind to do.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadDatabase } from '../test/helpers/pg-load';
import { runAsPgUser } from '../test/helpers/pg-template';
import { pgTopology } from '../test/helpers/pg-topology';
import type { TestSshd } from '../test/helpers/sshd';
import { observeStreaming, POLL_TABLE_SQL } from './failover-poller';
import { breakdown, recoverEngine, runWithApprovals, type Breakdown } from './failover-recover';
import { dropCluster, freshCluster } from './failover-runs';

const round = (x: number) => Math.round(x);

export interface RebuildResult {
  databaseBytes: number;
  loadMs: number;
  standbys: number;
  repetitions: number;
  recover: {
    ms: number;
    wallMs: number;
    approvalWaitMs: number;
    rebuiltBy: string | null;
    breakdown: Breakdown;
  };
  basebackup: { ms: number; pgBasebackupMs: number; startMs: number; emptyDirMs: number };
}

export async function rebuildBench(sshd: TestSshd, prefix: string, bytes: number): Promise<RebuildResult> {
  const c = await freshCluster(1);
  try {
    await c.psql(c.primary, POLL_TABLE_SQL); // the observer's write on the new primary
    const loaded = await loadDatabase(c, { bytes });
    await c.waitForCatchUp(600_000);
    const [oldPrimary, standby] = [c.primary, c.standbys[0]!];
    await c.crash(oldPrimary);
    await c.promote(standby);

    // (a) Recover: the topology's probe sees pg2 primary, pg1 down; the rebuild gate is approved on sight.
    const topology = pgTopology(c, { sshd, name: 'benchrb' });
    const engine = await recoverEngine(topology, prefix);
    let recover: RebuildResult['recover'];
    try {
      const t0 = performance.now();
      const seen = observeStreaming(c, oldPrimary, standby);
      const run = await runWithApprovals(engine, topology.name, 'postgres-rebuild-standby', oldPrimary.name);
      // A run that fails never makes the node stream: stop watching then, with its reason.
      const failed = run.ended.then(async (st) => {
        if (st === 'done') return new Promise<never>(() => undefined);
        const why = (await engine.rt.deps.ledger.getRun(run.runId))?.reason;
        throw new Error(`postgres-rebuild-standby ended ${st}: ${why}`);
      });
      const at = await Promise.race([seen, failed]);
      const state = await run.ended;
      if (state !== 'done') throw new Error(`postgres-rebuild-standby ended ${state}`);
      const b = await breakdown(engine, run);
      const steps = await engine.rt.deps.ledger.getSteps(run.runId);
      const rewind = steps.find((s) => s.stepId.startsWith('rewind--'));
      recover = {
        ms: round(at - t0 - b.approvalWaitTotalMs),
        wallMs: round(at - t0),
        approvalWaitMs: b.approvalWaitTotalMs,
        rebuiltBy: rewind?.result?.captured.rebuiltBy ?? null,
        breakdown: b,
      };
    } finally {
      await engine.close();
    }

    // (b) Plain base backup of the same node from the same new primary, from a stopped node again.
    await c.stopNode(oldPrimary);
    const e0 = performance.now();
    await runAsPgUser('/usr/bin/find', [oldPrimary.dataDir, '-mindepth', '1', '-delete'], {
      timeoutMs: 600_000,
    });
    const emptyDirMs = performance.now() - e0;
    const t0 = performance.now();
    const seen = observeStreaming(c, oldPrimary, standby);
    await runAsPgUser(
      'pg_basebackup',
      ['-h', '127.0.0.1', '-p', String(standby.port), '-U', c.user, '-D', oldPrimary.dataDir].concat([
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
      ]),
      { cwd: c.root, timeoutMs: 3_600_000 },
    );
    const copied = performance.now();
    // pg_basebackup copied the source's postgresql.conf: the node's own port and name go last.
    appendFileSync(
      join(oldPrimary.dataDir, 'postgresql.conf'),
      `port = ${oldPrimary.port}\ncluster_name = '${oldPrimary.name}'\n`,
    );
    await c.start(oldPrimary);
    const started = performance.now();
    const at = await seen;
    return {
      databaseBytes: loaded.bytes,
      loadMs: loaded.ms,
      standbys: 1,
      repetitions: 1,
      recover,
      basebackup: {
        ms: round(at - t0),
        pgBasebackupMs: round(copied - t0),
        startMs: round(started - copied),
        emptyDirMs: round(emptyDirMs),
      },
    };
  } finally {
    await dropCluster(c);
  }
}
