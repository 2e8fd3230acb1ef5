/**
 * Everything the bot says goes out through here: one ordered lane per channel, spaced to Slack's
 * ~1 message per second per channel, progress updates of one message collapsed to the latest,
 * rate-limited calls retried when Slack says, never dropped.
 */
import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import type { SlackMessage } from './blocks/types';

export interface SlackOutboxOptions {
  /** Gap between the end of one call and the start of the next in a channel. */
  minIntervalMs?: number;
  /** A Retry-After longer than this is cut short (Slack's 429 can name minutes). */
  maxRetryAfterMs?: number;
  /** Rate-limited answers one call may receive before it is rejected. */
  maxRateLimitRetries?: number;
}

/** A Slack call that failed; `slackError` is Slack's code (`channel_not_found`, `not_in_channel`, …). */
export class SlackOutboxError extends Error {
  constructor(
    readonly method: string,
    readonly slackError: string,
  ) {
    super(`Slack ${method} failed: ${slackError}`);
    this.name = 'SlackOutboxError';
  }
}

/**
 * The WebClient the outbox expects: no retries of its own (the outbox retries, in order) and
 * rate limits surfaced at once instead of slept through inside the client.
 */
export function createSlackWebClient(token: string, slackApiUrl?: string): WebClient {
  return new WebClient(token, {
    ...(slackApiUrl ? { slackApiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
  });
}

type Item =
  | {
      kind: 'post';
      channel: string;
      message: SlackMessage;
      threadTs?: string;
      waiters: Waiter[];
      limited: number;
    }
  | { kind: 'update'; channel: string; message: SlackMessage; ts: string; waiters: Waiter[]; limited: number }
  | {
      kind: 'ephemeral';
      channel: string;
      message: SlackMessage;
      user: string;
      waiters: Waiter[];
      limited: number;
    };
/** An item as a caller describes it (Omit distributed over the union). */
type Fields<T> = T extends unknown ? Omit<T, 'waiters' | 'limited'> : never;
type NewItem = Fields<Item>;
interface Waiter {
  resolve(ts: string): void;
  reject(err: Error): void;
}
interface Lane {
  items: Item[];
  busy: boolean;
  /** Earliest Date.now() at which the next call may start. */
  nextAt: number;
  timer?: NodeJS.Timeout;
}

/** Where messages go: Slack through the outbox, or the terminal in the local chat shell. */
export interface MessageSink {
  post(channel: string, message: SlackMessage, threadTs?: string): Promise<{ ts: string }>;
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
  ephemeral(channel: string, user: string, message: SlackMessage): Promise<void>;
  drain(): Promise<void>;
  close(): void;
}

const METHOD = { post: 'chat.postMessage', update: 'chat.update', ephemeral: 'chat.postEphemeral' } as const;

export class SlackOutbox implements MessageSink {
  private readonly lanes = new Map<string, Lane>();
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

  async post(channel: string, message: SlackMessage, threadTs?: string): Promise<{ ts: string }> {
    const ts = await this.enqueue(channel, { kind: 'post', channel, message, threadTs });
    return { ts };
  }

  /** Pending updates of the same message collapse into the latest; every caller's promise settles with it. */
  async update(channel: string, ts: string, message: SlackMessage): Promise<void> {
    const pending = this.lanes.get(channel)?.items.find((i) => i.kind === 'update' && i.ts === ts);
    if (pending && !this.closed) {
      pending.message = message;
      await new Promise<string>((resolve, reject) => pending.waiters.push({ resolve, reject }));
      return;
    }
    await this.enqueue(channel, { kind: 'update', channel, ts, message });
  }

  /** Ephemerals answer one person; they get their own lane so they do not wait behind a run's thread. */
  async ephemeral(channel: string, user: string, message: SlackMessage): Promise<void> {
    await this.enqueue(`ephemeral:${channel}`, { kind: 'ephemeral', channel, user, message });
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

  private enqueue(key: string, fields: NewItem): Promise<string> {
    if (this.closed) return Promise.reject(new SlackOutboxError(METHOD[fields.kind], 'outbox_closed'));
    this.pruneIdleLanes();
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { items: [], busy: false, nextAt: 0 }));
    const target = lane;
    return new Promise<string>((resolve, reject) => {
      target.items.push({ ...fields, waiters: [{ resolve, reject }], limited: 0 } as Item);
      this.pump(target);
    });
  }

  private pump(lane: Lane): void {
    if (this.closed || lane.busy || lane.timer) return;
    const item = lane.items[0];
    if (!item) return this.settleDrain();
    const wait = lane.nextAt - Date.now();
    if (wait > 0) {
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        this.pump(lane);
      }, wait);
      return;
    }
    lane.items.shift();
    lane.busy = true;
    this.send(item).then(
      (ts) => {
        for (const w of item.waiters) w.resolve(ts);
        this.finish(lane, this.minIntervalMs);
      },
      (err: unknown) => {
        const retryAfterMs = rateLimitDelay(err);
        if (retryAfterMs === undefined || item.limited >= this.maxRateLimitRetries) {
          this.fail(item, toOutboxError(METHOD[item.kind], err));
          return this.finish(lane, this.minIntervalMs);
        }
        item.limited += 1;
        this.requeueFirst(lane, item);
        this.finish(lane, Math.max(this.minIntervalMs, Math.min(retryAfterMs, this.maxRetryAfterMs)));
      },
    );
  }

  private finish(lane: Lane, delayMs: number): void {
    lane.nextAt = Date.now() + delayMs;
    lane.busy = false;
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
    }
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
      if (!lane.busy && lane.items.length === 0 && !lane.timer && lane.nextAt <= now) this.lanes.delete(key);
    }
  }
}

interface SlackishError {
  code?: string;
  message?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string; response_metadata?: { retryAfter?: number } };
  original?: { message?: string };
}

/** How long Slack asked us to wait, or undefined when the error is not a rate limit. */
function rateLimitDelay(err: unknown): number | undefined {
  const e = (err ?? {}) as SlackishError;
  if (e.code === ErrorCode.RateLimitedError) return (e.retryAfter ?? 1) * 1000;
  if (e.code === ErrorCode.PlatformError && e.data?.error === 'ratelimited') {
    return (e.data.response_metadata?.retryAfter ?? 1) * 1000;
  }
  // A WebClient built without rejectRateLimitedCalls has already slept through Retry-After.
  if (e.code === ErrorCode.RequestError && /rate limit was exceeded/i.test(e.original?.message ?? ''))
    return 0;
  if (/Retry header did not contain a valid timeout/.test(e.message ?? '')) return 1000;
  return undefined;
}

function toOutboxError(method: string, err: unknown): SlackOutboxError {
  const e = (err ?? {}) as SlackishError;
  let code: string;
  if (e.code === ErrorCode.PlatformError) code = e.data?.error ?? 'unknown_error';
  else if (e.code === ErrorCode.HTTPError) code = `http_${e.statusCode ?? 'error'}`;
  else if (e.code === ErrorCode.RateLimitedError) code = 'ratelimited';
  else code = `request_failed (${redact(e.original?.message ?? e.message ?? String(err))})`;
  return new SlackOutboxError(method, code);
}

/** Slack tokens never travel on in an error message. */
function redact(text: string): string {
  return text.replace(/\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+/g, '[token]');
}
