import { Queue, type ConnectionOptions } from 'bullmq';

export const RUN_QUEUE = 'recover-runs';

export type RunJob =
  | { name: 'advance'; data: { runId: string; stage: number; reason: string } }
  | { name: 'approve'; data: { runId: string; gate: string; planHash: string; approver: string } };

/** BullMQ job ids must not contain ':' nor be only digits; ours are built from safe parts. */
export function jobId(...parts: (string | number)[]): string {
  const id = parts.join('-');
  if (!/^[A-Za-z0-9_-]+$/.test(id) || /^\d+$/.test(id)) throw new Error(`unsafe job id: ${id}`);
  return id;
}

export interface RunQueue {
  /** Enqueue the next piece of a run; the same (run, stage, reason) enqueued twice makes one job. */
  advance(runId: string, stage: number, reason: string): Promise<void>;
  /** Jobs waiting, delayed or running: 0 when no run is moving (the chat shell waits for that). */
  pending(): Promise<number>;
  close(): Promise<void>;
}

export function createRunQueue(
  connection: ConnectionOptions,
  prefix: string,
  onError: (err: Error) => void,
): RunQueue & { queue: Queue } {
  const queue = new Queue(RUN_QUEUE, {
    connection,
    prefix,
    // Completed jobs are kept a day so a deterministic id cannot be run twice by a retry.
    defaultJobOptions: { removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 }, attempts: 1 },
  });
  // Without a listener BullMQ prints connection errors itself; they belong in our log.
  queue.on('error', onError);
  return {
    queue,
    async advance(runId, stage, reason) {
      await queue.add(
        'advance',
        { runId, stage, reason },
        { jobId: jobId('advance', runId, `s${stage}`, reason) },
      );
    },
    async pending() {
      const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    close: () => queue.close(),
  };
}
