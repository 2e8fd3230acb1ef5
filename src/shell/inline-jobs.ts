import type { SlackJob, SlackJobName, SlackJobs } from '../slack/jobs';

/**
 * The chat shell's request queue: requests are handled in this process, in order of arrival, so a
 * bot sharing the Redis never takes (and answers in Slack) what was typed in a terminal. Runs
 * themselves still go through the BullMQ run queue. The same job id twice is handled once, as
 * BullMQ would.
 */
export class InlineJobs implements SlackJobs {
  private readonly seen = new Set<string>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly handle: (name: SlackJobName, data: unknown) => Promise<void>,
    private readonly onError: (err: Error) => void,
  ) {}

  async enqueue<N extends SlackJobName>(name: N, data: SlackJob<N>, jobId: string): Promise<void> {
    if (this.seen.has(jobId)) return;
    this.seen.add(jobId);
    const work = this.handle(name, data).catch((err: unknown) =>
      this.onError(err instanceof Error ? err : new Error(String(err))),
    );
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
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
