/**
 * Everything the bot says goes out through here: one ordered lane per channel, spaced to Slack's
 * ~1 message per second per channel, progress updates of one message collapsed to the latest,
 * an update identical to what Slack already shows never sent, prompts (approval requests) and
 * answers ahead of progress, rate-limited calls retried when Slack says, never dropped.
 */
import type { WebClient } from '@slack/web-api';
import type { SlackMessage } from './blocks/types';
import { rateLimitDelay, SlackOutboxError, toOutboxError } from './outbox-errors';

export { createSlackWebClient, SlackOutboxError } from './outbox-errors';

export interface SlackOutboxOptions {
  /** A channel's average pace: one call per this long (short bursts only for prompts and answers). */
  minIntervalMs?: number;
  /** A Retry-After longer than this is cut short (Slack's 429 can name minutes). */
  maxRetryAfterMs?: number;
  /** Rate-limited answers one call may receive before it is rejected. */
  maxRateLimitRetries?: number;
}

/**
 * How a post queues in its channel: a `prompt` (a person must act: an approval request, a halt)
 * goes ahead of everything else, an `answer` (to a person who asked) ahead of progress; progress
 * (the default) goes in order behind them.
 */
export interface PostOptions {
  urgency?: 'prompt' | 'answer';
  /**
   * Progress replies of one thread still queued together go out as one message (within Slack's
   * 50 blocks): a run's thread keeps up with the run instead of trailing it at one reply a second.
   */
  mergeable?: boolean;
}
const RANK = { prompt: 2, answer: 1 } as const;

interface Common {
  channel: string;
  message: SlackMessage;
  waiters: Waiter[];
  limited: number;
  /** 2 prompt, 1 answer, 0 progress. */
  rank: number;
}
type Item =
  | (Common & { kind: 'post'; threadTs?: string; mergeable?: boolean })
  | (Common & { kind: 'update'; ts: string })
  | (Common & { kind: 'ephemeral'; user: string })
  | (Common & { kind: 'upload'; file: SharedFile });
/** An item as a caller describes it (Omit distributed over the union). */
type Fields<T> = T extends unknown ? Omit<T, 'waiters' | 'limited' | 'rank'> : never;
type NewItem = Fields<Item>;
interface Waiter {
  resolve(ts: string): void;
  reject(err: Error): void;
}
/**
 * A lane's budget is a token bucket: one token per minIntervalMs, at most BURST. Progress spends a
 * token only when the bucket is full, so the last two are always there for a prompt and an answer:
 * a person never waits for the channel's pace, and the channel's average stays one call per
 * minIntervalMs (Slack: about one message a second per channel, short bursts allowed).
 */
interface Lane {
  items: Item[];
  busy: boolean;
  tokens: number;
  /** Date.now() when `tokens` was counted. */
  at: number;
  /** Date.now() when the last call ended: progress also keeps a full interval from it. */
  endedAt: number;
  timer?: NodeJS.Timeout;
}
const BURST = 3;

/** A text file shared whole (the incident timeline): a file in Slack, paged in the terminal. */
export interface SharedFile {
  filename: string;
  title: string;
  content: string;
}

/** Where messages go: Slack through the outbox, or the terminal in the local chat shell. */
export interface MessageSink {
  post(
    channel: string,
    message: SlackMessage,
    threadTs?: string,
    options?: PostOptions,
  ): Promise<{ ts: string }>;
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
  ephemeral(channel: string, user: string, message: SlackMessage): Promise<void>;
  /** Share a file in the channel with `comment` above it; an answer to a person (PostOptions 'answer'). */
  upload(channel: string, file: SharedFile, comment: string): Promise<void>;
  drain(): Promise<void>;
  close(): void;
}

const METHOD = {
  post: 'chat.postMessage',
  update: 'chat.update',
  ephemeral: 'chat.postEphemeral',
  upload: 'files.uploadV2',
} as const;
/** Slack's limit of blocks in one message; merged replies keep well inside its text limit too. */
const MAX_BLOCKS = 50;
const MAX_MERGED_TEXT = 3000;
/** Messages whose last shown content is remembered (to skip identical updates). */
const REMEMBERED = 2000;

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
  async update(channel: string, ts: string, message: SlackMessage): Promise<void> {
    const pending = this.lanes
      .get(updateLane(channel))
      ?.items.find((i) => i.kind === 'update' && i.ts === ts);
    if (pending && !this.closed) {
      pending.message = message;
      await new Promise<string>((resolve, reject) => pending.waiters.push({ resolve, reject }));
      return;
    }
    if (!this.closed && this.shown.get(`${channel}/${ts}`) === contentOf(message)) return;
    await this.enqueue(updateLane(channel), { kind: 'update', channel, ts, message });
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
    const need = item.rank > 0 ? 1 : BURST;
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
    if (item.kind === 'post' && item.mergeable) this.absorb(lane, item);
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

  /** Fold the mergeable replies of the same thread queued behind `head` into it (updates may sit between). */
  private absorb(lane: Lane, head: Item & { kind: 'post' }): void {
    let blocks = head.message.blocks.length;
    let text = head.message.text.length;
    for (let i = 0; i < lane.items.length;) {
      const next = lane.items[i]!;
      if (next.kind === 'update') {
        i++;
        continue;
      }
      const fits =
        next.kind === 'post' &&
        next.mergeable &&
        next.rank === head.rank &&
        next.threadTs === head.threadTs &&
        blocks + next.message.blocks.length <= MAX_BLOCKS &&
        text + next.message.text.length < MAX_MERGED_TEXT;
      if (!fits) return;
      lane.items.splice(i, 1);
      head.message = {
        text: `${head.message.text}\n${next.message.text}`,
        blocks: [...head.message.blocks, ...next.message.blocks],
      };
      head.waiters.push(...next.waiters);
      blocks += next.message.blocks.length;
      text += next.message.text.length + 1;
    }
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

/**
 * Updates have a lane of their own per channel: chat.update is not a new message in the channel,
 * so progress redrawn in place never takes a turn from the channel's posts.
 */
function updateLane(channel: string): string {
  return `update:${channel}`;
}

/** What a message shows, for comparing one update with the last. */
function contentOf(message: SlackMessage): string {
  return JSON.stringify([message.text, message.blocks]);
}
