import type { EnqueueOutcome, SlackJob, SlackJobName, SlackJobs, SlackRequestId } from '../slack/jobs';
import { requestDigest } from '../slack/jobs';

/**
 * The chat shell's request queue: requests are handled in this process, in order of arrival, so a
 * bot sharing the Redis never takes (and answers in Slack) what was typed in a terminal. Runs
 * themselves still go through the BullMQ run queue. The same request twice within its lifetime
 * is handled once, as the bot's producer would.
 */
export class InlineJobs implements SlackJobs {
  /** Request digest → when it stops counting as a repeat (epoch ms). */
  private readonly seen = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly handle: (name: SlackJobName, data: unknown) => Promise<void>,
    private readonly onError: (err: Error) => void,
    private readonly now: () => number = Date.now,
  ) {}

  async enqueue<N extends SlackJobName>(
    name: N,
    data: SlackJob<N>,
    request: SlackRequestId,
  ): Promise<EnqueueOutcome> {
    const now = this.now();
    for (const [key, until] of this.seen) if (until <= now) this.seen.delete(key);
    const digest = requestDigest(name, request.parts);
    if (this.seen.has(digest)) return 'duplicate';
    this.seen.set(digest, now + request.ttlMs);
    const work = this.handle(name, data).catch((err: unknown) =>
      this.onError(err instanceof Error ? err : new Error(String(err))),
    );
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
    return 'queued';
  }

  isIdle(): boolean {
    return this.running.size === 0;
  }

  /** Resolves when every request handed over so far has been handled. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  async close(): Promise<void> {
    await this.idle();
  }
}
