/**
 * bench:multisite — restoring a MultiSite replica from backup with four siblings (seed 002) on
 * the simulator (real sshds, real PostgreSQL state, packets shipped with a WAN transit delay):
 * Recover's multisite-restore, siblings worked in parallel (approval waits subtracted), against
 * the same CLI steps over SSH one sibling after another. Interleaved, RECOVER_BENCH_MS_REPS
 * (default 3) repetitions each; RECOVER_BENCH_MS_TRANSIT_MS (default 5000) per packet.
 * Target: median recover / median sequential ≤ 0.35. Prints one JSON object.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  baselineOnce,
  recoverOnce,
  SIBLINGS,
  type BaselineSample,
  type RecoverSample,
} from './multisite-runs';

const REPS = Number(process.env.RECOVER_BENCH_MS_REPS ?? 3);
const TRANSIT_MS = Number(process.env.RECOVER_BENCH_MS_TRANSIT_MS ?? 5000);
const TARGET = 0.35;
const prefix = `bench-multisite-${process.pid}`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const loads = () => loadavg().map((x) => Math.round(x * 100) / 100);
const log = (msg: string) => process.stderr.write(`[bench:multisite] ${msg}\n`);

async function main() {
  if (!Number.isInteger(REPS) || REPS < 1) throw new Error('RECOVER_BENCH_MS_REPS must be ≥ 1');
  const started = performance.now();
  const machine = { cores: cpus().length, loadAvgAtStart: loads(), node: process.version };
  const recover: RecoverSample[] = [];
  const baseline: BaselineSample[] = [];
  // Interleaved (R, S, S, R, …): drift in the machine's load falls on both sides alike.
  for (let i = 0; i < REPS; i++) {
    const order = i % 2 === 0 ? (['recover', 'sequential'] as const) : (['sequential', 'recover'] as const);
    for (const side of order) {
      if (side === 'recover') {
        const s = await recoverOnce(TRANSIT_MS, prefix);
        recover.push(s);
        log(
          `recover    #${i + 1}: ${s.ms} ms (wall ${s.wallMs}, approvals ${s.approvalWaitMs}), load ${loads()[0]}`,
        );
      } else {
        const s = await baselineOnce(TRANSIT_MS);
        baseline.push(s);
        log(
          `sequential #${i + 1}: ${s.ms} ms (per sibling ${s.perSiblingMs.join(', ')}), load ${loads()[0]}`,
        );
      }
    }
  }
  const recoverMs = median(recover.map((s) => s.unlockedMs));
  const baselineMs = median(baseline.map((s) => s.ms));
  const ratio = Math.round((recoverMs / baselineMs) * 1000) / 1000;
  const mid = [...recover].sort(
    (a, b) => Math.abs(a.unlockedMs - recoverMs) - Math.abs(b.unlockedMs - recoverMs),
  )[0]!;
  console.log(
    JSON.stringify(
      {
        benchmark: 'multisite',
        machine: { ...machine, loadAvgAtEnd: loads() },
        siblings: SIBLINGS.length,
        transitMsPerPacket: TRANSIT_MS,
        condition:
          'from the first action (Recover: startRun, its probe and plan included; sequential: msim-db restore) until the restored replica imported the last acknowledgement (unlocked); both verified converged',
        repetitions: REPS,
        samples: { recoverMs: recover.map((s) => s.unlockedMs), sequentialMs: baseline.map((s) => s.ms) },
        recoverToRunEndSamplesMs: recover.map((s) => s.ms),
        recoverWallSamplesMs: recover.map((s) => s.wallMs),
        recoverApprovalWaitSamplesMs: recover.map((s) => s.approvalWaitMs),
        sequentialPerSiblingMs: baseline.map((s) => s.perSiblingMs),
        recoverMedianMs: recoverMs,
        sequentialMedianMs: baselineMs,
        recoverMedianRun: {
          planMs: mid.breakdown.planMs,
          steps: mid.breakdown.steps.map((x) => `${x.step} ${x.fromMs}→${x.toMs} (${x.ms} ms, ${x.checks}×)`),
        },
        ratio,
        target: TARGET,
        pass: ratio <= TARGET,
        wallS: Math.round((performance.now() - started) / 100) / 10,
      },
      null,
      2,
    ),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
