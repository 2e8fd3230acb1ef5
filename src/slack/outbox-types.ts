/** The outbox's items, lanes and budget: what the lanes hold and how they are ordered and merged. */
import type { SlackMessage } from './blocks/types';

export interface SlackOutboxOptions {
  /** A channel's average pace: one call per this long (short bursts only for prompts and answers). */
  minIntervalMs?: number;
  /** A Retry-After longer than this is cut short (Slack's 429 can name minutes). */
  maxRetryAfterMs?: number;
  /** Rate-limited answers one call may receive before it is rejected. */
  maxRateLimitRetries?: number;
}

/**
 * How a post queues in its channel: a `prompt` (a person must act: a halt) goes ahead of
 * everything else, an `answer` (to a person who asked) next, a `request` (an approval request
 * whose buttons are already on the run's message) next; progress (the default) goes in order
 * behind them.
 */
export interface PostOptions {
  urgency?: 'prompt' | 'answer' | 'request';
  /**
   * Progress replies of one thread still queued together go out as one message (within Slack's
   * 50 blocks): a run's thread keeps up with the run instead of trailing it at one reply a second.
   */
  mergeable?: boolean;
}
export const RANK = { prompt: 3, answer: 2, request: 1 } as const;

export interface Common {
  channel: string;
  message: SlackMessage;
  waiters: Waiter[];
  limited: number;
  /** 3 prompt, 2 answer, 1 request, 0 progress. */
  rank: number;
}
export type Item =
  | (Common & { kind: 'post'; threadTs?: string; mergeable?: boolean })
  | (Common & { kind: 'update'; ts: string })
  | (Common & { kind: 'ephemeral'; user: string })
  | (Common & { kind: 'upload'; file: SharedFile });
/** An item as a caller describes it (Omit distributed over the union). */
type Fields<T> = T extends unknown ? Omit<T, 'waiters' | 'limited' | 'rank'> : never;
export type NewItem = Fields<Item>;
export interface Waiter {
  resolve(ts: string): void;
  reject(err: Error): void;
}
/**
 * A lane's budget is a token bucket: one token per minIntervalMs, at most BURST. Progress spends a
 * token only when the bucket is full, so the last two are always there for a prompt and an answer:
 * a person never waits for the channel's pace, and the channel's average stays one call per
 * minIntervalMs (Slack: about one message a second per channel, short bursts allowed).
 */
export interface Lane {
  items: Item[];
  busy: boolean;
  tokens: number;
  /** Date.now() when `tokens` was counted. */
  at: number;
  /** Date.now() when the last call ended: progress also keeps a full interval from it. */
  endedAt: number;
  timer?: NodeJS.Timeout;
}
export const BURST = 3;

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
  /** `urgency` as for posts: an update a person waits on goes ahead of progress redraws. */
  update(channel: string, ts: string, message: SlackMessage, options?: PostOptions): Promise<void>;
  ephemeral(channel: string, user: string, message: SlackMessage): Promise<void>;
  /** Share a file in the channel with `comment` above it; an answer to a person (PostOptions 'answer'). */
  upload(channel: string, file: SharedFile, comment: string): Promise<void>;
  drain(): Promise<void>;
  close(): void;
}

export const METHOD = {
  post: 'chat.postMessage',
  update: 'chat.update',
  ephemeral: 'chat.postEphemeral',
  upload: 'files.uploadV2',
} as const;
/** Slack's limit of blocks in one message; merged replies keep well inside its text limit too. */
const MAX_BLOCKS = 50;
const MAX_MERGED_TEXT = 3000;
/** Messages whose last shown content is remembered (to skip identical updates). */
export const REMEMBERED = 2000;

/** Fold the mergeable replies of the same thread queued behind `head` into it (updates may sit between). */
export function absorbMergeable(lane: Lane, head: Item & { kind: 'post' }): void {
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

/**
 * Updates have a lane of their own per channel: chat.update is not a new message in the channel,
 * so progress redrawn in place never takes a turn from the channel's posts.
 */
export function updateLane(channel: string): string {
  return `update:${channel}`;
}

/** What a message shows, for comparing one update with the last. */
export function contentOf(message: SlackMessage): string {
  return JSON.stringify([message.text, message.blocks]);
}
