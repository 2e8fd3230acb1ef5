import { createHash, randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
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

/** Jobs a person is waiting on to go on with a run: they never queue behind anyone's status request. */
const INTERACTIVE: ReadonlySet<SlackJobName> = new Set(['start', 'approve', 'reject', 'abort', 'decide']);

/**
 * What makes two deliveries one request: its identifying parts (for a slash command Slack's
 * trigger id, which a retry carries unchanged; for a click who clicked what, on which message),
 * and how long a repeat counts as the same request.
 */
export interface SlackRequestId {
  parts: readonly string[];
  ttlMs: number;
}

/** The same request delivered twice within its lifetime makes one job; the second is `duplicate`. */
export type EnqueueOutcome = 'queued' | 'duplicate';

export function requestDigest(name: SlackJobName, parts: readonly string[]): string {
  return createHash('sha256')
    .update([name, ...parts].join('\u0000'))
    .digest('hex')
    .slice(0, 24);
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
  enqueue<N extends SlackJobName>(
    name: N,
    data: SlackJob<N>,
    request: SlackRequestId,
  ): Promise<EnqueueOutcome>;
  close(): Promise<void>;
}

/** Per channel, the requests queued and not yet handled: a busy channel's next request waits behind its own. */
export const backlogKey = (prefix: string, channel: string) => `${prefix}:slack-backlog:${channel}`;
/** A request of `channel` was handled: its backlog shrinks (and goes when empty). */
export async function releaseBacklog(redis: Redis, prefix: string, channel: string): Promise<void> {
  const key = backlogKey(prefix, channel);
  if ((await redis.decr(key)) <= 0) await redis.del(key);
}
const requestKey = (prefix: string, digest: string) => `${prefix}:slack-request:${digest}`;
const BACKLOG_TTL_MS = 10 * 60_000;

/**
 * The producer used by listeners. It fails fast when Redis is down (no offline queue, a short
 * deadline), so a listener can still tell the user within Slack's 3 seconds.
 *
 * Fairness: one BullMQ queue, ordered per channel. A request's priority is its channel's backlog
 * (1 for the first waiting request of a channel, 40 for the 40th), so the incident channel's one
 * request goes ahead of another channel's 39 still waiting; clicks that move a run have no
 * priority at all, which BullMQ serves before every prioritized job.
 */
export function createSlackJobs(connection: RedisOptions, prefix: string, deadlineMs = 1500): SlackJobs {
  const queue = new Queue(SLACK_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 }, attempts: 1 },
  });
  queue.on('error', () => undefined); // reported per enqueue below
  // Our own keys (the request's identity, the channel's backlog) on a connection of our own.
  const redis = new Redis({ ...connection, lazyConnect: true });
  redis.on('error', () => undefined); // reported per enqueue below
  let connecting: Promise<void> | undefined;
  const connected = () =>
    (connecting ??= redis.connect().catch((err: unknown) => {
      connecting = undefined;
      throw err;
    }));

  async function add<N extends SlackJobName>(
    name: N,
    data: SlackJob<N>,
    request: SlackRequestId,
  ): Promise<EnqueueOutcome> {
    await connected();
    const digest = requestDigest(name, request.parts);
    const first = await redis.set(requestKey(prefix, digest), '1', 'PX', request.ttlMs, 'NX');
    if (first === null) return 'duplicate';
    try {
      let priority: number | undefined;
      if (!INTERACTIVE.has(name)) {
        const key = backlogKey(prefix, data.channel);
        const [[, count]] = (await redis.multi().incr(key).pexpire(key, BACKLOG_TTL_MS).exec()) as [
          [Error | null, number],
        ];
        priority = Math.max(1, Math.min(count, 2_000_000));
      }
      const jobId = `${name}-${digest}-${randomBytes(4).toString('hex')}`;
      await queue.add(name, data, { jobId, ...(priority ? { priority } : {}) });
      return 'queued';
    } catch (err) {
      // Not queued: a retry of this request must not be taken for a duplicate.
      await redis.del(requestKey(prefix, digest)).catch(() => undefined);
      throw err;
    }
  }

  return {
    async enqueue(name, data, request) {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          add(name, data, request),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new EnqueueTimeoutError(deadlineMs)), deadlineMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      redis.disconnect();
      await queue.close();
    },
  };
}
