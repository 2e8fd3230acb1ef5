import type { Redis } from 'ioredis';

export interface RunThread {
  channel: string;
  /** The run's parent message, updated in place; its thread holds one reply per step. */
  ts: string | null;
}

/** Where each run talks in Slack: its channel, parent message, and the approval message per gate. */
export class RunThreads {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(runId: string): string {
    return `${this.prefix}:slack:run:${runId}`;
  }

  async bind(runId: string, channel: string): Promise<void> {
    await this.redis.hset(this.key(runId), 'channel', channel);
  }

  async get(runId: string): Promise<RunThread | null> {
    const h = await this.redis.hgetall(this.key(runId));
    if (!h.channel) return null;
    return { channel: h.channel, ts: h.ts ?? null };
  }

  async setParent(runId: string, ts: string): Promise<void> {
    await this.redis.hset(this.key(runId), 'ts', ts);
  }

  async setApprovalMessage(runId: string, gate: string, ts: string): Promise<void> {
    await this.redis.hset(this.key(runId), `approval:${gate}`, ts);
  }

  async approvalMessage(runId: string, gate: string): Promise<string | null> {
    return this.redis.hget(this.key(runId), `approval:${gate}`);
  }
}
