import { Worker, type ConnectionOptions } from 'bullmq';
import { createRunProcessor } from '../../jobs/run-processor';
import type { EngineDeps } from './deps';
import { RUN_QUEUE } from './run-queue';

export interface RunWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency?: number;
  /** How long a job's lock lasts without renewal; after a worker dies its job is picked up after about this long. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How often this worker looks for runs nothing is moving (see watchdog.ts). */
  watchdogMs?: number;
  onError?: (err: Error) => void;
}

export function startRunWorker(deps: EngineDeps, options: RunWorkerOptions): Worker {
  const worker = new Worker(RUN_QUEUE, createRunProcessor(deps), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 4,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    // A stalled job is resumed once by another worker; the engine then finds the step "running" and halts.
    maxStalledCount: 1,
    // After a Redis outage BullMQ waits this long before polling again (default 15 s): too slow mid-incident.
    runRetryDelay: 1000,
  });
  worker.on('error', (err) => options.onError?.(err));
  return worker;
}

/**
 * Let the active job finish, but not forever: past the grace period the worker is closed without
 * waiting for its active job (the process's own forced exit backs this up).
 */
export async function closeWorker(worker: Worker, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gave = await Promise.race([
    worker.close().then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
  ]);
  clearTimeout(timer);
  if (!gave) await worker.close(true);
}
