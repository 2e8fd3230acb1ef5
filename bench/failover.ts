/**
 * bench:failover — Recover against the tools an operator would otherwise use, on real clusters
 * (PostgreSQL 15 on loopback, steps over a real sshd, the real engine on Redis):
 *  1. failover: primary crash → new primary taking writes and every standby streaming from it on
 *     the new timeline. Recover's postgres-failover (approvals subtracted) vs repmgr `standby
 *     promote` + `standby follow`, interleaved on fresh primary + 2 standby clusters. Target:
 *     median recover / median repmgr ≤ 1.0.
 *  2. rebuild of the old primary as a standby on ~1 GiB: postgres-rebuild-standby (pg_rewind) vs
 *     a plain pg_basebackup (see failover-rebuild.ts). Target: ratio ≤ 0.2.
 * RECOVER_BENCH_FAILOVER_REPS (default 5) repetitions each; RECOVER_BENCH_SKIP_REBUILD=1 skips 2;
 * RECOVER_BENCH_REBUILD_MB (default 1024) sizes its database.
 * Prints one JSON object (the other benches write no file either).
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startSshd, type TestSshd } from '../test/helpers/sshd';
import { POLL_MS } from './failover-poller';
import { rebuildBench, type RebuildResult } from './failover-rebuild';
import {
  dropCluster,
  liveClusters,
  recoverOnce,
  repmgrOnce,
  type RecoverSample,
  type RepmgrSample,
} from './failover-runs';

const REPS = Number(process.env.RECOVER_BENCH_FAILOVER_REPS ?? 5);
const SKIP_REBUILD = process.env.RECOVER_BENCH_SKIP_REBUILD === '1';
const REBUILD_BYTES = Number(process.env.RECOVER_BENCH_REBUILD_MB ?? 1024) * 1024 * 1024;
const FAILOVER_TARGET = 1.0;
const REBUILD_TARGET = 0.2;
const prefix = `bench-failover-${process.pid}`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
const loads = () => loadavg().map((x) => Math.round(x * 100) / 100);
const log = (msg: string) => process.stderr.write(`[bench:failover] ${msg}\n`);

let sshd: TestSshd | undefined;

async function cleanup(): Promise<void> {
  for (const c of liveClusters) await dropCluster(c).catch((err) => log(`stop ${c.root}: ${String(err)}`));
  await sshd?.stop().catch(() => undefined);
  sshd = undefined;
}

/** The run nearest the median, with where its time went step by step. */
function medianRun(samples: RecoverSample[]) {
  const m = median(samples.map((s) => s.ms));
  const s = [...samples].sort((a, b) => Math.abs(a.ms - m) - Math.abs(b.ms - m))[0]!;
  return {
    ms: s.ms,
    planMs: s.breakdown.planMs,
    approvalWaitMs: s.breakdown.approvalWaitMs,
    steps: s.breakdown.steps.map((x) => `${x.step} ${x.fromMs}→${x.toMs} (${x.ms} ms, ${x.checks}×)`),
  };
}

async function main() {
  if (!Number.isInteger(REPS) || REPS < 1) throw new Error('RECOVER_BENCH_FAILOVER_REPS must be ≥ 1');
  const started = performance.now();
  const machine = { cores: cpus().length, loadAvgAtStart: loads(), node: process.version };
  sshd = await startSshd();
  const recover: RecoverSample[] = [];
  const repmgr: RepmgrSample[] = [];
  // Interleaved (R, M, M, R, …): drift in the machine's load falls on both sides alike.
  for (let i = 0; i < REPS; i++) {
    const order = i % 2 === 0 ? (['recover', 'repmgr'] as const) : (['repmgr', 'recover'] as const);
    for (const side of order) {
      if (side === 'recover') {
        const s = await recoverOnce(sshd, prefix);
        recover.push(s);
        log(
          `recover #${i + 1}: ${s.ms} ms (wall ${s.wallMs}, approvals ${s.approvalWaitMs}), load ${loads()[0]}`,
        );
      } else {
        const s = await repmgrOnce();
        repmgr.push(s);
        log(
          `repmgr  #${i + 1}: ${s.ms} ms (promote ${s.promoteMs}, follow ${s.followMs}), load ${loads()[0]}`,
        );
      }
    }
  }
  const recoverMs = median(recover.map((s) => s.ms));
  const repmgrMs = median(repmgr.map((s) => s.ms));
  const failoverRatio = ratio(recoverMs, repmgrMs);
  const toEnd = recover.flatMap((s) => (s.toRunEndMs === null ? [] : [s.toRunEndMs]));

  let rebuild: (RebuildResult & { ratio: number; target: number; pass: boolean }) | { skipped: true };
  if (SKIP_REBUILD) rebuild = { skipped: true };
  else {
    log(`rebuild: loading ${REBUILD_BYTES / 1024 ** 2} MiB`);
    const r = await rebuildBench(sshd, prefix, REBUILD_BYTES);
    const rr = ratio(r.recover.ms, r.basebackup.ms);
    log(`rebuild: recover ${r.recover.ms} ms vs pg_basebackup ${r.basebackup.ms} ms`);
    rebuild = { ...r, ratio: rr, target: REBUILD_TARGET, pass: rr <= REBUILD_TARGET };
  }

  const failoverPass = failoverRatio <= FAILOVER_TARGET;
  const result = {
    benchmark: 'failover',
    machine: { ...machine, loadAvgAtEnd: loads() },
    observerPollMs: POLL_MS,
    failover: {
      repetitions: REPS,
      condition:
        'after pg_ctl stop -m immediate of the primary returned: a node takes an INSERT on a new timeline and every other surviving node streams from it on that timeline (pg_stat_wal_receiver)',
      recoverSamplesMs: recover.map((s) => s.ms),
      recoverWallSamplesMs: recover.map((s) => s.wallMs),
      recoverApprovalWaitSamplesMs: recover.map((s) => s.approvalWaitMs),
      recoverToRunEndSamplesMs: toEnd,
      repmgrSamplesMs: repmgr.map((s) => s.ms),
      repmgrPromoteSamplesMs: repmgr.map((s) => s.promoteMs),
      repmgrFollowSamplesMs: repmgr.map((s) => s.followMs),
      recoverMedianMs: recoverMs,
      repmgrMedianMs: repmgrMs,
      recoverToRunEndMedianMs: toEnd.length ? median(toEnd) : null,
      ratio: failoverRatio,
      target: FAILOVER_TARGET,
      pass: failoverPass,
      recoverMedianRun: medianRun(recover),
      newPrimaries: { recover: recover.map((s) => s.primary), repmgr: repmgr.map((s) => s.primary) },
    },
    rebuild,
    wallS: Math.round((performance.now() - started) / 100) / 10,
    pass: failoverPass && ('skipped' in rebuild ? true : rebuild.pass),
  };
  console.log(JSON.stringify(result, null, 2));
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(cleanup)
  .catch(async (err) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  });
