/**
 * Everything the bot says goes out through here: one ordered lane per channel, spaced to Slack's
 * ~1 message per second per channel, progress updates of one message collapsed to the latest,
 * an update identical to what Slack already shows never sent, prompts (approval requests) and
 * answers ahead of progress, rate-limited calls retried when Slack says, never dropped.
 */
import type { WebClient } from '@slack/web-api';
import type { SlackMessage } from './blocks/types';
import { rateLimitDelay, SlackOutboxError, toOutboxError } from './outbox-errors';
import {
  absorbMergeable,
  BURST,
  contentOf,
  METHOD,
  RANK,
  REMEMBERED,
  updateLane,
  type Item,
  type Lane,
  type MessageSink,
  type NewItem,
  type PostOptions,
  type SharedFile,
  type SlackOutboxOptions,
} from './outbox-types';

export { createSlackWebClient, SlackOutboxError } from './outbox-errors';
export type { MessageSink, PostOptions, SharedFile, SlackOutboxOptions } from './outbox-types';

export class SlackOutbox implements MessageSink {
  private readonly lanes = new Map<string, Lane>();
  /** `${channel}/${ts}` → the content Slack shows now, as sent. */
  private readonly shown = new Map<string, string>();
  private readonly minIntervalMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxRateLimitRetries: number;
  private drainWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly client: WebClient,
    options: SlackOutboxOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 1100;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.maxRateLimitRetries = options.maxRateLimitRetries ?? 8;
  }

  async post(
    channel: string,
    message: SlackMessage,
    threadTs?: string,
    options: PostOptions = {},
  ): Promise<{ ts: string }> {
    const rank = options.urgency ? RANK[options.urgency] : 0;
    const fields = { kind: 'post' as const, channel, message, threadTs, mergeable: options.mergeable };
    const ts = await this.enqueue(channel, fields, rank);
    return { ts };
  }

  /**
   * Pending updates of the same message collapse into the latest; every caller's promise settles
   * with it. An update that would show what Slack already shows is not sent at all.
   */
  async update(channel: string, ts: string, message: SlackMessage, options: PostOptions = {}): Promise<void> {
    const rank = options.urgency ? RANK[options.urgency] : 0;
    const lane = this.lanes.get(updateLane(channel));
    const pending = lane?.items.find((i) => i.kind === 'update' && i.ts === ts);
    if (lane && pending && !this.closed) {
      pending.message = message;
      if (rank > pending.rank) {
        // The latest content needs a person now: the pending update moves up with it.
        lane.items.splice(lane.items.indexOf(pending), 1);
        pending.rank = rank;
        const at = lane.items.findIndex((i) => i.rank < rank);
        lane.items.splice(at >= 0 ? at : lane.items.length, 0, pending);
        if (lane.items[0] === pending && lane.timer) {
          clearTimeout(lane.timer);
          lane.timer = undefined;
          this.pump(lane);
        }
      }
      await new Promise<string>((resolve, reject) => pending.waiters.push({ resolve, reject }));
      return;
    }
    if (!this.closed && this.shown.get(`${channel}/${ts}`) === contentOf(message)) return;
    await this.enqueue(updateLane(channel), { kind: 'update', channel, ts, message }, rank);
  }

  /** Ephemerals answer one person; they get their own lane so they do not wait behind a run's thread. */
  async ephemeral(channel: string, user: string, message: SlackMessage): Promise<void> {
    await this.enqueue(`ephemeral:${channel}`, { kind: 'ephemeral', channel, user, message });
  }

  async upload(channel: string, file: SharedFile, comment: string): Promise<void> {
    const message = { text: comment, blocks: [] };
    await this.enqueue(channel, { kind: 'upload', channel, message, file }, RANK.answer);
  }

  /** Resolves once everything queued so far has been sent (or has failed). */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Stops timers; calls still queued are rejected. A call already in flight finishes on its own. */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
      for (const item of lane.items.splice(0))
        this.fail(item, new SlackOutboxError(METHOD[item.kind], 'outbox_closed'));
    }
    this.settleDrain();
  }

  private enqueue(key: string, fields: NewItem, rank = 0): Promise<string> {
    if (this.closed) return Promise.reject(new SlackOutboxError(METHOD[fields.kind], 'outbox_closed'));
    this.pruneIdleLanes();
    let lane = this.lanes.get(key);
    if (!lane)
      this.lanes.set(key, (lane = { items: [], busy: false, tokens: BURST, at: Date.now(), endedAt: 0 }));
    const target = lane;
    return new Promise<string>((resolve, reject) => {
      const item = { ...fields, waiters: [{ resolve, reject }], limited: 0, rank } as Item;
      // Items of one rank keep their order; a higher rank goes ahead of every lower one.
      const at = rank > 0 ? target.items.findIndex((i) => i.rank < rank) : -1;
      if (at >= 0) target.items.splice(at, 0, item);
      else target.items.push(item);
      if (at === 0 && target.timer) {
        // The lane was waiting for a full bucket (progress); this one may need less.
        clearTimeout(target.timer);
        target.timer = undefined;
      }
      this.pump(target);
    });
  }

  private pump(lane: Lane): void {
    if (this.closed || lane.busy || lane.timer) return;
    const item = lane.items[0];
    if (!item) return this.settleDrain();
    if (item.kind === 'update' && this.shown.get(`${item.channel}/${item.ts}`) === contentOf(item.message)) {
      // Slack already shows this (an earlier update got there first): nothing to send, no spacing used.
      lane.items.shift();
      for (const w of item.waiters) w.resolve(item.ts);
      return this.pump(lane);
    }
    const now = Date.now();
    const level = this.level(lane, now);
    // Prompts and answers to a person take any token; a thread's approval request (its Approve is
    // already on the run's message) leaves one for the answer that may follow; progress a full bucket.
    const need = item.rank >= RANK.answer ? 1 : item.rank > 0 ? 2 : BURST;
    const gap = item.rank > 0 ? 0 : lane.endedAt + this.minIntervalMs - now;
    if (level < need || gap > 0) {
      lane.timer = setTimeout(
        () => {
          lane.timer = undefined;
          this.pump(lane);
        },
        Math.max(gap, Math.ceil((need - level) * this.minIntervalMs)),
      );
      return;
    }
    lane.tokens = level - 1;
    lane.at = now;
    lane.items.shift();
    if (item.kind === 'post' && item.mergeable) absorbMergeable(lane, item);
    lane.busy = true;
    this.send(item).then(
      (ts) => {
        if (item.kind === 'post' || item.kind === 'update')
          this.remember(`${item.channel}/${ts}`, contentOf(item.message));
        for (const w of item.waiters) w.resolve(ts);
        this.finish(lane);
      },
      (err: unknown) => {
        const retryAfterMs = rateLimitDelay(err);
        if (retryAfterMs === undefined || item.limited >= this.maxRateLimitRetries) {
          this.fail(item, toOutboxError(METHOD[item.kind], err));
          return this.finish(lane);
        }
        item.limited += 1;
        this.requeueFirst(lane, item);
        // Slack said wait: the bucket is empty until Retry-After has passed.
        const waitMs = Math.max(this.minIntervalMs, Math.min(retryAfterMs, this.maxRetryAfterMs));
        lane.tokens = 1 - waitMs / this.minIntervalMs;
        lane.at = Date.now();
        this.finish(lane);
      },
    );
  }

  private level(lane: Lane, now: number): number {
    return Math.min(BURST, lane.tokens + (now - lane.at) / this.minIntervalMs);
  }

  private finish(lane: Lane): void {
    lane.busy = false;
    lane.endedAt = Date.now();
    this.pump(lane);
  }

  /** A rate-limited item goes back to the front; a newer update of its message, queued meanwhile, folds into it. */
  private requeueFirst(lane: Lane, item: Item): void {
    if (this.closed) return this.fail(item, new SlackOutboxError(METHOD[item.kind], 'outbox_closed'));
    if (item.kind === 'update') {
      const newer = lane.items.findIndex((i) => i.kind === 'update' && i.ts === item.ts);
      const [later] = newer >= 0 ? lane.items.splice(newer, 1) : [];
      if (later) {
        item.message = later.message;
        item.waiters.push(...later.waiters);
      }
    }
    lane.items.unshift(item);
  }

  private async send(item: Item): Promise<string> {
    const { channel, message } = item;
    const content = { channel, text: message.text, blocks: message.blocks };
    switch (item.kind) {
      case 'post': {
        const res = await this.client.chat.postMessage({ ...content, thread_ts: item.threadTs });
        return res.ts ?? '';
      }
      case 'update':
        await this.client.chat.update({ ...content, ts: item.ts });
        return item.ts;
      case 'ephemeral':
        await this.client.chat.postEphemeral({ ...content, user: item.user });
        return '';
      case 'upload':
        await this.client.filesUploadV2({
          channel_id: channel,
          content: item.file.content,
          filename: item.file.filename,
          title: item.file.title,
          initial_comment: message.text,
        });
        return '';
    }
  }

  private remember(key: string, content: string): void {
    this.shown.delete(key);
    this.shown.set(key, content);
    if (this.shown.size > REMEMBERED) this.shown.delete(this.shown.keys().next().value as string);
  }

  private fail(item: Item, err: Error): void {
    for (const w of item.waiters) w.reject(err);
  }

  private idle(): boolean {
    for (const lane of this.lanes.values()) if (lane.busy || lane.items.length > 0) return false;
    return true;
  }

  private settleDrain(): void {
    if (!this.closed && !this.idle()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** A lane whose spacing has elapsed carries no state worth keeping. */
  private pruneIdleLanes(): void {
    const now = Date.now();
    for (const [key, lane] of this.lanes) {
      if (!lane.busy && lane.items.length === 0 && !lane.timer && this.level(lane, now) >= BURST)
        this.lanes.delete(key);
    }
  }
}
