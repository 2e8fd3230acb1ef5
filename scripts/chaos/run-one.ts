import { join } from 'node:path';
import { createEngineRuntime, type EngineRuntime } from '../../src/app/engine-runtime';
import type { DbEngine } from '../../src/config/topology';
import { startRun } from '../../src/engine/start';
import type { RunRecord, StepRecord } from '../../src/engine/types';
import { destroyFleet, loadFleetState } from '../../src/flavours/coremedia/fleet/fleet';
import { dropPrefix } from '../../test/helpers/engine';
import { ownRedis, type OwnRedis } from '../../test/helpers/own-redis';
import { createChaosFleet, type ChaosFleet } from './chaos-fleet';
import { killLiveServers } from './live-server';
import { onCleanup } from './cleanup';
import { cliHands, inProcessHands } from './hands';
import { actAsHumans, type HumanRecord } from './human';
import { checkRun, type EffectCounts } from './invariants';
import type { Rng } from './prng';
import type { ToolWrappers } from './tool-wrappers';
import { WorkerPool } from './workers';

/**
 * kills: 1–2 workers, SIGKILLed at random moments and when a step is running.
 * two-workers: always two workers on the same queue, killed the same way.
 * redis-restart: the run's own redis-server (AOF on), restarted mid-run, plus the kills.
 * engine-killed: the humans' requests are `recover` processes, some SIGKILLed mid-request,
 *   while the worker instances run (and are killed too).
 */
export const SCENARIOS = ['kills', 'two-workers', 'redis-restart', 'engine-killed'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface RunSpec {
  index: number;
  engine: DbEngine;
  scenario: ScenarioName;
  rng: Rng;
  /** A control run: nothing is killed or restarted (every invariant must hold). */
  calm: boolean;
}

export interface RunReport {
  index: number;
  engine: DbEngine;
  scenario: ScenarioName;
  runId: string | null;
  state: string;
  kills: number;
  engineKills: number;
  redisRestarts: number;
  halts: number;
  decisions: HumanRecord['decisions'];
  approvals: number;
  /** The engine's last refusals of the humans' requests (e.g. a decision on a run not halted). */
  refusals: string[];
  violations: string[];
  /** A stuck run: what it looked like, and the audit's last events (for the engine's authors). */
  stuck: { description: string; lastEvents: string[] } | null;
  /** Destructive effects the fleet's instrumentation saw (MariaDB drops are invisible: 0). */
  effects: EffectCounts | null;
  durationMs: number;
}

export interface SuiteContext {
  tmp: string;
  pid: number;
  redisUrl: string;
  logDbs: Record<DbEngine, string>;
  wrappers: ToolWrappers;
  stuckMs: number;
  deadline: number;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = { notify: async () => undefined };

export async function runOne(spec: RunSpec, ctx: SuiteContext): Promise<RunReport> {
  const started = Date.now();
  const { rng } = spec;
  const tag = `${ctx.pid}-${spec.index}`;
  const report: RunReport = {
    index: spec.index,
    engine: spec.engine,
    scenario: spec.scenario,
    runId: null,
    state: 'not started',
    kills: 0,
    engineKills: 0,
    redisRestarts: 0,
    halts: 0,
    decisions: [],
    approvals: 0,
    refusals: [],
    violations: [],
    stuck: null,
    effects: null,
    durationMs: 0,
  };
  const undo: (() => Promise<void>)[] = [];
  let pool: WorkerPool | undefined;
  try {
    let redisUrl = ctx.redisUrl;
    let redis: OwnRedis | undefined;
    if (spec.scenario === 'redis-restart') {
      const own = await ownRedis([
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ]);
      redis = own;
      undo.push(onCleanup(`redis-server on ${own.port}`, () => own.destroy()));
      await own.start();
      redisUrl = own.url;
    }
    const prefix = `chaos-${tag}`;
    undo.push(onCleanup(`Redis keys ${prefix}:*`, () => dropPrefix(prefix, redisUrl)));
    const dir = join(ctx.tmp, `run-${spec.index}`);
    const fleetPrefix = `chaos_${tag.replace('-', '_')}`;
    // Registered before anything exists: an interrupt in the middle of the set-up undoes it too.
    undo.push(
      onCleanup(`fleet ${fleetPrefix}`, async () => {
        killLiveServers(dir);
        await sleep(400); // a start that was landing
        killLiveServers(dir);
        const state = loadFleetState(fleetPrefix);
        if (state) await destroyFleet(state);
      }),
    );
    const fleet: ChaosFleet = await createChaosFleet({
      topology: `chaos-${spec.index}`,
      engine: spec.engine,
      prefix: fleetPrefix,
      withRls4: rng.chance(0.5),
      dir,
      logDb: ctx.logDbs[spec.engine],
      wrappersDir: ctx.wrappers.dir,
    });
    const rt: EngineRuntime = await createEngineRuntime({
      config: fleet.config,
      redisUrl,
      prefix,
      notifier: silent,
      env: fleet.env,
      onError: () => undefined,
    });
    rt.redis.on('error', () => undefined); // Redis restarts are the point here; the ledger reads retry
    undo.push(onCleanup(`engine of ${fleet.topology}`, () => rt.close()));
    const workerEnv = { RECOVER_REDIS_PREFIX: prefix, REDIS_URL: redisUrl, ...fleet.env };
    pool = new WorkerPool(fleet.configFile, workerEnv, spec.scenario === 'two-workers' ? 2 : rng.int(1, 2));
    const p = pool;
    undo.push(onCleanup(`workers of ${fleet.topology}`, () => p.close()));
    await pool.fill();

    // What the fleet was like when the run started: a stop of a server already down is rightly a no-op.
    const initiallyRunning = new Map<string, boolean>();
    for (const [node, server] of fleet.servers) initiallyRunning.set(node, await server.isRunning());
    const since = Date.now();
    const outcome = await startRun(rt.deps, {
      topology: fleet.topology,
      runbook: 'master-from-slave',
      target: null,
      requester: { id: 'alice' },
    });
    if (outcome.kind !== 'started') throw new Error(`run not started: ${outcome.kind}`);
    const runId = outcome.run.id;
    report.runId = runId;
    ctx.log(
      `run ${spec.index} ${spec.engine} ${spec.scenario}: ${runId} (${pool.size} worker${pool.size > 1 ? 's' : ''})`,
    );

    const hands =
      spec.scenario === 'engine-killed'
        ? cliHands({
            configFile: fleet.configFile,
            env: workerEnv,
            rng: rng.fork(),
            killChance: spec.calm ? 0 : 0.4,
          })
        : inProcessHands(rt.deps);

    // The chaos: kill a worker every few seconds, and sometimes the moment a step runs.
    let over = false;
    let lastKill = 0;
    let killing = false;
    const killOne = async () => {
      if (killing || !p.full || quiet()) return; // one kill at a time, never a run left without workers
      killing = true;
      lastKill = Date.now();
      try {
        if (await p.killOne(rng)) await sleep(rng.between(0, 400));
        await p.fill();
      } finally {
        killing = false;
      }
    };
    const monkey = (async () => {
      while (!over && !spec.calm) {
        await sleep(rng.between(1500, 5000));
        if (!over) await killOne();
      }
    })().catch((err: Error) => report.violations.push(`harness: the chaos loop failed: ${err.message}`));
    const restarter = (async () => {
      if (!redis || spec.calm) return;
      for (let i = 0; i < rng.int(1, 2) && !over; i++) {
        await sleep(rng.between(1000, 8000));
        if (over) break;
        await redis.stop();
        await sleep(rng.between(100, 1500));
        await redis.start();
        report.redisRestarts++;
      }
    })().catch((err: Error) => report.violations.push(`harness: the Redis restarter failed: ${err.message}`));
    // Fire and forget: a worker's restart takes seconds and must not hold up the humans.
    const onTick = async (_run: RunRecord, steps: StepRecord[]) => {
      if (spec.calm || killing || Date.now() - lastKill < 1500) return;
      if (!steps.some((s) => s.state === 'running') || !rng.chance(0.25)) return;
      void killOne().catch((err: Error) => report.violations.push(`harness: ${err.message}`));
    };

    const record: HumanRecord = {
      approvals: [],
      decisions: [],
      haltEpisodes: 0,
      refusals: [],
      lost: 0,
      stuck: null,
      lastChange: Date.now(),
    };
    // A run that has not moved for half the stuck time gets no more chaos: then, with every
    // worker up, it either moves again or is truly stuck.
    const quiet = () => Date.now() - record.lastChange > ctx.stuckMs / 2;
    const human = await actAsHumans({
      record,
      deps: rt.deps,
      hands,
      runId,
      fleet,
      wrappers: ctx.wrappers,
      rng: rng.fork(),
      stuckMs: ctx.stuckMs,
      deadline: ctx.deadline,
      onTick,
      starved: () => p.count === 0,
      stuckContext: async () => {
        const lease = await rt.deps.lease.current(fleet.topology);
        const jobs = await rt.deps.queue.pending();
        return `lease: ${lease ? `${lease.runId === runId ? 'this run' : lease.runId}, token ${lease.token}, heartbeat ${lease.heartbeatAt}` : 'none'}; queue jobs waiting/active/delayed: ${jobs}; workers alive: ${p.count}`;
      },
    });
    over = true;
    await Promise.all([monkey, restarter]);
    if (human.stuck) {
      const events = await rt.deps.audit.read(runId).catch(() => []);
      report.stuck = {
        description: human.stuck,
        lastEvents: events
          .slice(-14)
          .map((x) => `${x.at.slice(11, 23)} ${x.kind} ${x.actor ?? ''} ${x.summary.slice(0, 160)}`),
      };
    }
    await sleep(1000); // the last start lands ~0.3 s after its command
    await pool.close();
    report.kills = pool.kills;
    report.engineKills = hands.kills;
    report.halts = human.haltEpisodes;
    report.decisions = human.decisions;
    report.approvals = human.approvals.length;
    report.refusals = human.refusals.slice(-3);
    report.state = (await rt.deps.ledger.getRun(runId))?.state ?? 'missing';
    ({ violations: report.violations, effects: report.effects } = await checkRun({
      fleet,
      wrappers: ctx.wrappers,
      deps: rt.deps,
      runId,
      human,
      since,
      initiallyRunning,
    }));
  } catch (err) {
    report.violations.push(`harness error: ${(err as Error).stack ?? String(err)}`);
    if (pool) report.kills = pool.kills;
  } finally {
    for (const u of undo.reverse())
      await u().catch((err: Error) => report.violations.push(`cleanup: ${err.message}`));
    report.durationMs = Date.now() - started;
  }
  return report;
}
