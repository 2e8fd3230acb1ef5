/**
 * bench:engine — the engine's own overhead per step transition, over 200 no-op steps on real
 * Redis: from a step's result to the next step's start (enqueue → start included). Baseline in
 * the same run: a bare BullMQ chain (each job's processor adds the next), the floor any
 * queue-driven engine stands on. Target: p99 < 20 ms per transition.
 */
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { createEngineRuntime } from '../src/app/engine-runtime';
import { serviceUrls } from '../src/config/env';
import { RecoverConfig } from '../src/config/topology';
import { redisOptionsFromUrl } from '../src/engine/redis-options';
import { startRun } from '../src/engine/start';
import type { EngineEvent, Notifier } from '../src/engine/types';
import { createFleet } from '../src/flavours/coremedia/fleet/fleet';
import { Scenario } from '../src/flavours/coremedia/fleet/scenario';
import type { Runbook } from '../src/runbook/types';
import { dropPrefix } from '../test/helpers/engine';

const STEPS = 200;

const noops: Runbook = {
  name: 'bench-noops',
  flavour: 'coremedia',
  title: `${STEPS} no-op steps`,
  source: 'bench',
  target: 'none',
  steps: Array.from({ length: STEPS }, (_, i) => ({
    id: `noop-${String(i + 1).padStart(3, '0')}`,
    title: 'no-op',
    target: { kind: 'master' as const },
    action: { kind: 'noop' as const },
    risk: 'read' as const,
  })),
};

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number) => Math.round(x * 100) / 100;
const stats = (xs: number[]) => ({
  n: xs.length,
  medianMs: round(pct(xs, 50)),
  p99Ms: round(pct(xs, 99)),
  maxMs: round(Math.max(...xs)),
});

async function engineTransitions(): Promise<number[]> {
  const fleet = await createFleet(
    Scenario.parse({
      name: 'bench-engine',
      master: 'mls',
      nodes: [
        { name: 'mls', engine: 'postgres', changelog: { last: 10, count: 5 } },
        { name: 'rls-1', engine: 'postgres', replicator: { remote: 10 }, changelog: { last: 10, count: 5 } },
      ],
    }),
    { prefix: 'bench_engine' },
  );
  const prefix = `bench-engine-${process.pid}`;
  const marks: { type: string; at: number }[] = [];
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const notifier: Notifier = {
    async notify(e: EngineEvent) {
      marks.push({ type: e.type, at: performance.now() });
      if (e.type === 'run-finished') finished();
    },
  };
  const rt = await createEngineRuntime({
    config: RecoverConfig.parse(fleet.config),
    redisUrl: serviceUrls().redisUrl,
    prefix,
    notifier,
    runbook: (name) => (name === noops.name ? noops : undefined),
  });
  try {
    rt.startWorker({ concurrency: 1 });
    await startRun(rt.deps, {
      topology: 'bench-engine',
      runbook: noops.name,
      target: null,
      requester: { id: 'bench' },
    });
    await done;
  } finally {
    await rt.close();
    await dropPrefix(prefix);
    await fleet.destroy();
  }
  const gaps: number[] = [];
  for (let i = 1; i < marks.length; i++)
    if (marks[i]!.type === 'step-started' && marks[i - 1]!.type === 'step-result')
      gaps.push(marks[i]!.at - marks[i - 1]!.at);
  return gaps;
}

async function bullmqChain(): Promise<number[]> {
  const prefix = `bench-bullmq-${process.pid}`;
  const connection = redisOptionsFromUrl(serviceUrls().redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('chain', { connection, prefix });
  const gaps: number[] = [];
  let last = 0;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const worker = new Worker(
    'chain',
    async (job) => {
      const now = performance.now();
      if (last) gaps.push(now - last);
      const i = Number(job.data.i);
      last = performance.now();
      if (i < STEPS) await queue.add('step', { i: i + 1 }, { jobId: `c-${i + 1}` });
      else finished();
    },
    { connection, prefix, concurrency: 1 },
  );
  try {
    await queue.add('step', { i: 1 }, { jobId: 'c-1' });
    await done;
  } finally {
    await worker.close();
    await queue.close();
    await dropPrefix(prefix);
  }
  return gaps;
}

async function main() {
  const baseline = stats(await bullmqChain());
  const engine = stats(await engineTransitions());
  console.log(
    JSON.stringify(
      {
        benchmark: 'engine',
        steps: STEPS,
        node: process.version,
        engineTransition: engine,
        bareBullmqTransition: baseline,
        p99OverBaseline: round(engine.p99Ms / baseline.p99Ms),
        targetP99Ms: 20,
        pass: engine.p99Ms < 20,
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
