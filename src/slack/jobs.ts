import { createHash } from 'node:crypto';
import { Queue, type ConnectionOptions } from 'bullmq';
import { z } from 'zod';

export const SLACK_QUEUE = 'recover-slack';

const Where = { channel: z.string().min(1), user: z.string().min(1) };

/** Job data by job name: validated again in the processor (jobs/slack-processor.ts). */
export const SlackJobData = {
  status: z.object({ ...Where, topology: z.string() }),
  plan: z.object({ ...Where, topology: z.string(), runbook: z.string(), target: z.string().nullable() }),
  start: z.object({
    ...Where,
    topology: z.string(),
    runbook: z.string(),
    target: z.string().nullable(),
    runId: z.string(),
    planHash: z.string().optional(),
  }),
  approve: z.object({ ...Where, runId: z.string(), gate: z.string(), planHash: z.string() }),
  reject: z.object({ ...Where, runId: z.string(), gate: z.string() }),
  abort: z.object({ ...Where, runId: z.string() }),
  decide: z.object({
    ...Where,
    runId: z.string(),
    stepId: z.string(),
    choice: z.enum(['retry', 'mark-done', 'abort']),
  }),
  runs: z.object({ ...Where, topology: z.string().nullable() }),
  timeline: z.object({ ...Where, runId: z.string() }),
  acknowledge: z.object({ ...Where, topology: z.string(), key: z.string() }),
};
export type SlackJobName = keyof typeof SlackJobData;
export type SlackJob<N extends SlackJobName> = z.infer<(typeof SlackJobData)[N]>;

/**
 * A job id for a Slack request: the same request delivered twice (a retry, a double click)
 * within the same 30-second window makes one job. BullMQ ids must not contain ':'.
 */
export function slackJobId(name: SlackJobName, parts: readonly string[], now: number): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 20);
  return `${name}-${digest}-${Math.floor(now / 30_000)}`;
}

/** The queue did not answer in time: the job may still land, so the user must not be told it did not. */
export class EnqueueTimeoutError extends Error {
  readonly code = 'ENQUEUE_TIMEOUT';
  constructor(readonly deadlineMs: number) {
    super(`the job queue (Redis) did not answer within ${deadlineMs} ms`);
    this.name = 'EnqueueTimeoutError';
  }
}

export interface SlackJobs {
  enqueue<N extends SlackJobName>(name: N, data: SlackJob<N>, jobId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The producer used by listeners. It fails fast when Redis is down (no offline queue, a short
 * deadline), so a listener can still tell the user within Slack's 3 seconds.
 */
export function createSlackJobs(connection: ConnectionOptions, prefix: string, deadlineMs = 1500): SlackJobs {
  const queue = new Queue(SLACK_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 }, attempts: 1 },
  });
  queue.on('error', () => undefined); // reported per enqueue below
  return {
    async enqueue(name, data, jobId) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          queue.add(name, data, { jobId }),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new EnqueueTimeoutError(deadlineMs)), deadlineMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => queue.close(),
  };
}
