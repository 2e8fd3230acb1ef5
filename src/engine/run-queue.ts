import { randomBytes } from 'node:crypto';
import { Queue, type ConnectionOptions } from 'bullmq';

export const RUN_QUEUE = 'recover-runs';

export type RunJob =
  | { name: 'advance'; data: { runId: string; stage: number; reason: string } }
  | { name: 'approve'; data: { runId: string; gate: string; planHash: string; approver: string } };

/** How often an advance job is tried when the engine itself throws; then the run halts for a human. */
export const ADVANCE_ATTEMPTS = 4;

/** BullMQ job ids must not contain ':' nor be only digits; ours are built from safe parts. */
export function jobId(...parts: (string | number)[]): string {
  const id = parts.join('-');
  if (!/^[A-Za-z0-9_-]+$/.test(id) || /^\d+$/.test(id)) throw new Error(`unsafe job id: ${id}`);
  return id;
}

const LIVE_STATES = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'] as const;

export interface RunQueue {
  /**
   * Enqueue the next piece of a run. Every call makes a job (ids are unique per call): a kept
   * completed job with the same id would otherwise swallow a retry, a re-approval or a re-plan.
   * Two jobs for one run never move it at once: the lease lets one worker at a time claim it.
   */
  /** `delayMs`: check again later without holding a worker (wait-until and checklist steps). */
  advance(runId: string, stage: number, reason: string, delayMs?: number): Promise<void>;
  /** Whether a job for the run is waiting, delayed or running. */
  hasLiveJob(runId: string): Promise<boolean>;
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
    defaultJobOptions: { removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 }, attempts: 1 },
  });
  // Without a listener BullMQ prints connection errors itself; they belong in our log.
  queue.on('error', onError);
  return {
    queue,
    async advance(runId, stage, reason, delayMs = 0) {
      const unique = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
      await queue.add(
        'advance',
        { runId, stage, reason },
        {
          jobId: jobId('advance', runId, `s${stage}`, reason, unique),
          attempts: ADVANCE_ATTEMPTS,
          ...(delayMs > 0 ? { delay: delayMs } : {}),
          backoff: { type: 'exponential', delay: 1_000 },
        },
      );
    },
    async hasLiveJob(runId) {
      const jobs = await queue.getJobs([...LIVE_STATES], 0, -1);
      return jobs.some((j) => (j?.data as { runId?: string } | undefined)?.runId === runId);
    },
    async pending() {
      const counts = await queue.getJobCounts(...LIVE_STATES);
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    close: () => queue.close(),
  };
}
