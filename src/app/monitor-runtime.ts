import { Worker, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createMonitorProcessor } from '../../jobs/monitor-processor';
import type { RecoverConfig } from '../config/topology';
import type { EngineDeps } from '../engine/deps';
import { redisOptionsFromUrl } from '../engine/redis-options';
import { closeWorker } from '../engine/worker';
import { AlertStore } from '../monitor/alert-store';
import { MonitorDbs } from '../monitor/monitor-dbs';
import type { AlertSink, MonitorDeps } from '../monitor/poll';
import {
  createMonitorQueue,
  MONITOR_QUEUE,
  syncMonitorSchedules,
  type ScheduleSync,
} from '../monitor/schedule';
import { monitorWarnings } from '../monitor/settings';
import { inspectTopology } from '../status/inspect';
import { secretFromEnv, secretsOf } from '../config/env';
import { HostExecutors } from '../hosts/executors';

export interface MonitorRuntimeOptions {
  config: RecoverConfig;
  redisUrl: string;
  prefix: string;
  /** The engine's Redis connection (commands, scripts); BullMQ opens its own. */
  redis: Redis;
  /** The lease and ledger tell a sequence move made by a Recover run from one that is not. */
  engine: Pick<EngineDeps, 'lease' | 'ledger' | 'clock'>;
  sink: AlertSink;
  env?: NodeJS.ProcessEnv;
  /** Polls of different topologies at once in this process. */
  concurrency?: number;
  onError?: (err: Error) => void;
}

export interface MonitorRuntime {
  store: AlertStore;
  dbs: MonitorDbs;
  queue: Queue;
  worker: Worker;
  deps: MonitorDeps;
  schedules: ScheduleSync;
  warnings: string[];
  close(): Promise<void>;
}

/** Sync the schedules with the config and start this instance's monitor worker. */
export async function startMonitorRuntime(o: MonitorRuntimeOptions): Promise<MonitorRuntime> {
  const onError = o.onError ?? (() => undefined);
  const connection = () => redisOptionsFromUrl(o.redisUrl, { maxRetriesPerRequest: null });
  const dbs = new MonitorDbs(o.env ?? {});
  // Flavours read services and vendor CLIs over SSH too; one connection per host, kept between polls.
  const hosts = new HostExecutors({
    secrets: o.config.topologies.flatMap((t) => secretsOf(t, o.env ?? {})),
  });
  const store = new AlertStore(o.redis, o.prefix);
  const byName = new Map(o.config.topologies.map((t) => [t.name, t]));
  const deps: MonitorDeps = {
    redis: o.redis,
    store,
    topology: (name) => byName.get(name),
    async inspect(t) {
      try {
        return await inspectTopology(t, { dbs, hosts, secret: (name) => secretFromEnv(name, o.env ?? {}) });
      } finally {
        await dbs.release(t.name);
      }
    },
    async runActivity(topology, since) {
      if (await o.engine.lease.current(topology)) return true;
      if (since === null) return false;
      return (await o.engine.ledger.listRuns(topology, 5)).some((r) => r.updatedAt >= since);
    },
    sink: o.sink,
    clock: o.engine.clock,
  };
  const queue = createMonitorQueue(connection(), o.prefix, onError);
  let worker: Worker | undefined;
  try {
    const schedules = await syncMonitorSchedules(queue, o.config);
    worker = new Worker(MONITOR_QUEUE, createMonitorProcessor(deps), {
      connection: connection(),
      prefix: o.prefix,
      concurrency: o.concurrency ?? 8,
      runRetryDelay: 1000,
    });
    worker.on('error', onError);
    worker.on('failed', (_job, err) => onError(err));
    const w = worker;
    return {
      store,
      dbs,
      queue,
      worker: w,
      deps,
      schedules,
      warnings: monitorWarnings(o.config),
      async close() {
        await closeWorker(w, 10_000);
        await queue.close();
        await Promise.all([dbs.closeAll(), hosts.closeAll()]);
      },
    };
  } catch (err) {
    await worker?.close(true);
    await queue.close();
    await Promise.all([dbs.closeAll(), hosts.closeAll()]);
    throw err;
  }
}
