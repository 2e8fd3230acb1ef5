import { Queue, type ConnectionOptions } from 'bullmq';
import type { RecoverConfig } from '../config/topology';
import { monitorPlans } from './settings';

export const MONITOR_QUEUE = 'recover-monitor';
const SCHEDULER_PREFIX = 'monitor-';

/** One scheduler per topology, keyed by its name: every instance upserting it makes one schedule. */
export const schedulerId = (topology: string) => `${SCHEDULER_PREFIX}${topology}`;

export function createMonitorQueue(
  connection: ConnectionOptions,
  prefix: string,
  onError: (err: Error) => void,
): Queue {
  const queue = new Queue(MONITOR_QUEUE, { connection, prefix });
  queue.on('error', onError);
  return queue;
}

export interface ScheduleSync {
  upserted: string[];
  removed: string[];
}

/**
 * Make the queue's schedules match the config: upsert a Job Scheduler per watched topology (same id
 * from every instance, so two bots never double the polling) and remove those of topologies no
 * longer configured or watched. The stable per-topology offset spreads polls over the interval.
 */
export async function syncMonitorSchedules(queue: Queue, config: RecoverConfig): Promise<ScheduleSync> {
  const plans = monitorPlans(config);
  const wanted = new Set(plans.map((p) => schedulerId(p.topology)));
  for (const p of plans) {
    await queue.upsertJobScheduler(
      schedulerId(p.topology),
      { every: p.intervalMs, ...(p.offsetMs > 0 ? { offset: p.offsetMs } : {}) },
      {
        name: 'poll',
        data: { topology: p.topology },
        // A poll is worth nothing once the next one is due: keep little history, never retry.
        opts: { attempts: 1, removeOnComplete: { count: 10 }, removeOnFail: { count: 50 } },
      },
    );
  }
  const removed: string[] = [];
  for (const s of await queue.getJobSchedulers(0, -1)) {
    const id = s.key;
    if (id.startsWith(SCHEDULER_PREFIX) && !wanted.has(id)) {
      await queue.removeJobScheduler(id);
      removed.push(id);
    }
  }
  return { upserted: [...wanted], removed };
}
