import { Redis } from 'ioredis';
import type { RecoverConfig } from '../config/topology';
import { secretFromEnv, secretsOf } from '../config/env';
import { DbRegistry } from '../db/connect';
import { commandActionExecutors } from '../engine/command-actions';
import { hostActionExecutors } from '../engine/host-actions';
import { ruleActionExecutors } from '../engine/rule-actions';
import { HostExecutors } from '../hosts/executors';
import { AuditLog } from '../engine/audit';
import { livenessFor, type EngineDeps } from '../engine/deps';
import { startWatchdog } from '../engine/watchdog';
import { sqlExecutors, type ExecutorRegistry } from '../engine/executors';
import { RunLedger } from '../engine/ledger';
import { TopologyLease } from '../engine/lease';
import { checkRedis } from '../engine/redis-checks';
import { checkDumpTools } from '../restore/tool-versions';
import { createRunQueue } from '../engine/run-queue';
import type { Notifier } from '../engine/types';
import { redisOptionsFromUrl } from '../engine/redis-options';
import { closeWorker, startRunWorker, type RunWorkerOptions } from '../engine/worker';
import { inspectTopology } from '../status/inspect';
import { cancelLeftovers } from '../restore/leftovers';
import { flavourOf } from '../flavours/registry';
import { getRunbook } from '../runbook/registry';
import type { Runbook } from '../runbook/types';
import type { Worker } from 'bullmq';

export interface EngineRuntimeOptions {
  config: RecoverConfig;
  redisUrl: string;
  prefix: string;
  notifier: Notifier;
  env?: NodeJS.ProcessEnv;
  executors?: ExecutorRegistry;
  clock?: () => Date;
  /** Connection trouble of the queue and workers (they reconnect by themselves): log it, do not crash. */
  onError?: (err: Error) => void;
  runbook?: (name: string) => Runbook | undefined;
  groups?: EngineDeps['groups'];
  /** How often a long step reports its progress (default 2 s). */
  progressEveryMs?: number;
}

export interface EngineRuntime {
  deps: EngineDeps;
  redis: Redis;
  warnings: string[];
  startWorker(options?: Partial<Omit<RunWorkerOptions, 'connection' | 'prefix'>>): Worker;
  /**
   * Open the SSH connection of every node now, so a run started after a crash does not pay the
   * handshakes on its critical path. Returns the nodes that could not be reached (never throws).
   */
  warmHosts(): Promise<{ node: string; error: string }[]>;
  close(): Promise<void>;
}

/** The composition root of the engine: every connection is opened here and closed by close(). */
export async function createEngineRuntime(options: EngineRuntimeOptions): Promise<EngineRuntime> {
  const redis = await connectRedis(options.redisUrl, options.onError);
  const workers: Worker[] = [];
  const watchdogs: { stop(): void }[] = [];
  const dbs = new DbRegistry({ env: options.env });
  // Database passwords must never show in a command's output: redact them from every host's tails.
  const secrets = options.config.topologies.flatMap((t) => secretsOf(t, options.env));
  const hosts = new HostExecutors({ secrets });
  let queue: ReturnType<typeof createRunQueue> | undefined;
  try {
    const { warnings } = await checkRedis(redis);
    const clock = options.clock ?? (() => new Date());
    // Workers block on Redis and must retry forever; see PITFALLS (BullMQ).
    const connectionFor = () => redisOptionsFromUrl(options.redisUrl, { maxRetriesPerRequest: null });
    const onError = options.onError ?? (() => undefined);
    queue = createRunQueue(connectionFor(), options.prefix, onError);
    const deps: EngineDeps = {
      config: options.config,
      ledger: new RunLedger(redis, { prefix: options.prefix, clock }),
      lease: new TopologyLease(redis, { prefix: options.prefix, clock }),
      audit: new AuditLog(redis, { prefix: options.prefix }),
      queue,
      notifier: options.notifier,
      dbs,
      executors: options.executors ?? {
        ...sqlExecutors(),
        ...hostActionExecutors({ hosts, env: options.env ?? {} }),
        ...commandActionExecutors({
          hosts,
          secrets,
          secretValue: (name) => secretFromEnv(name, options.env),
        }),
        ...ruleActionExecutors(),
      },
      runbook: options.runbook ?? getRunbook,
      groups: options.groups ?? (async () => options.config.groups),
      inspect: (topology) =>
        inspectTopology(topology, { dbs, hosts, secret: (name) => secretFromEnv(name, options.env) }),
      checkPlan: (plan, topology) => checkDumpTools(plan, topology, dbs, options.env?.PATH),
      clock,
      liveness: livenessFor(undefined),
      progressEveryMs: options.progressEveryMs,
      leftovers: {
        // Its own pools: the worker's may still hold the very session being cancelled.
        async cancel(topology, nodes, tagPrefix) {
          const fresh = new DbRegistry({ env: options.env });
          try {
            return await cancelLeftovers(topology, fresh, nodes, tagPrefix);
          } finally {
            await fresh.closeAll();
          }
        },
        describe: async (topology, nodes) => {
          const holdings = flavourOf(topology.flavour).holdings;
          if (!holdings) return [];
          return Promise.all(
            topology.nodes
              .filter((n) => nodes.includes(n.name) && n.db)
              .map((n) => holdings(dbs.get(n, topology.name))),
          );
        },
      },
    };
    const q = queue;
    return {
      deps,
      redis,
      warnings,
      warmHosts: () => hosts.warm(options.config.topologies.flatMap((t) => t.nodes)),
      startWorker(workerOptions = {}) {
        // A worker beats while it moves a run, three times per job lock period.
        deps.liveness = livenessFor(workerOptions.lockDurationMs);
        const worker = startRunWorker(deps, {
          ...workerOptions,
          connection: connectionFor(),
          prefix: options.prefix,
        });
        workers.push(worker);
        watchdogs.push(
          startWatchdog(deps, workerOptions.watchdogMs ?? 15_000, workerOptions.onError ?? onError),
        );
        return worker;
      },
      async close() {
        for (const w of watchdogs) w.stop();
        await Promise.allSettled(workers.map((w) => closeWorker(w, 10_000)));
        await q.close();
        await hosts.closeAll();
        await dbs.closeAll();
        redis.disconnect();
      },
    };
  } catch (err) {
    await queue?.close();
    await dbs.closeAll();
    redis.disconnect();
    throw err;
  }
}

/** Redis did not answer at start: one line that says where and what to do, never a stack trace. */
export class RedisUnavailableError extends Error {
  readonly code = 'REDIS_UNAVAILABLE';
  constructor(url: string, reason: string) {
    super(
      `cannot reach Redis at ${withoutPassword(url)} (${reason}): start it (\`npm run services\`, or redis-server) or set REDIS_URL`,
    );
    this.name = 'RedisUnavailableError';
  }
}

async function connectRedis(url: string, onError?: (err: Error) => void): Promise<Redis> {
  let firstError: Error | undefined;
  let ready = false;
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    // At start, one try: a Redis that is not there is reported, not waited for.
    retryStrategy: (times) => (times > 1 && !ready ? null : Math.min(times * 200, 2000)),
  });
  redis.on('error', (err: Error) => {
    firstError ??= err;
    if (ready) onError?.(err);
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    const e = (firstError ?? err) as NodeJS.ErrnoException;
    throw new RedisUnavailableError(url, e.code ?? e.message);
  }
  ready = true;
  return redis;
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL';
  }
}
