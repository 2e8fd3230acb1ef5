import { Redis } from 'ioredis';
import type { RecoverConfig } from '../config/topology';
import { secretsOf } from '../config/env';
import { DbRegistry } from '../db/connect';
import { commandActionExecutors } from '../engine/command-actions';
import { hostActionExecutors } from '../engine/host-actions';
import { HostExecutors } from '../hosts/executors';
import { AuditLog } from '../engine/audit';
import { livenessFor, type EngineDeps } from '../engine/deps';
import { startWatchdog } from '../engine/watchdog';
import { sqlExecutors, type ExecutorRegistry } from '../engine/executors';
import { RunLedger } from '../engine/ledger';
import { TopologyLease } from '../engine/lease';
import { checkRedis } from '../engine/redis-checks';
import { createRunQueue } from '../engine/run-queue';
import type { Notifier } from '../engine/types';
import { redisOptionsFromUrl } from '../engine/redis-options';
import { closeWorker, startRunWorker, type RunWorkerOptions } from '../engine/worker';
import { inspectTopology } from '../status/inspect';
import { cancelLeftovers } from '../restore/leftovers';
import { describeHoldings } from '../restore/holdings';
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
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
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
        ...commandActionExecutors({ hosts, secrets }),
      },
      runbook: options.runbook ?? getRunbook,
      groups: options.groups ?? (async () => options.config.groups),
      inspect: (topology) => inspectTopology(topology, { dbs, hosts }),
      clock,
      liveness: livenessFor(undefined),
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
        describe: (topology, nodes) =>
          Promise.all(
            topology.nodes
              .filter((n) => nodes.includes(n.name))
              .map((n) => describeHoldings(dbs.get(n, topology.name))),
          ),
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
