import type {
  ActionsBlock,
  Button,
  ContextBlock,
  HeaderBlock,
  KnownBlock,
  MrkdwnElement,
  SectionBlock,
} from '@slack/types';
import { SLACK_LIMITS } from '../constants';
import type { SlackMessage } from './types';

export const MAX_BLOCKS = SLACK_LIMITS.blocksPerMessage;
export const MAX_TEXT = SLACK_LIMITS.sectionTextChars;
const MAX_HEADER = 150;
const MAX_BUTTON_TEXT = 75;
const MAX_CONFIRM_TEXT = 300;
/**
 * chat.postMessage refuses `msg_blocks_too_long` at roughly 12 000 characters of text over all
 * blocks together (undocumented; slackapi/bolt-js#2509, #2867), so 50 full sections never fit.
 */
export const MESSAGE_TEXT_BUDGET = 11_000;
/** Room kept for a truncation note. */
const NOTE_ROOM = 250;

/** Escape what Slack parses (&, <, >) and defuse bare @channel/@here/@everyone: data must never ping or link. */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)\b/gi, '@\u2060$1');
}

/** The first `n` characters, never splitting a surrogate pair or an escape entity (&amp; &lt; &gt;). */
function safeCut(text: string, n: number): string {
  let cut = text.slice(0, Math.max(0, n));
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut.replace(/&(a|am|amp|l|lt|g|gt)?$/, '');
}

/** `text` when it fits in `max` characters; else its start and `note` (which says what was cut). */
export function truncateText(text: string, max: number, note?: string): string {
  if (text.length <= max) return text;
  const sep = text.includes('\n') ? '\n' : ' ';
  const tail = note ?? `… (truncated: ${text.length} characters in all)`;
  if (tail.length + sep.length >= max) return safeCut(tail, max);
  return safeCut(text, max - tail.length - sep.length).trimEnd() + sep + tail;
}

/** Break runs of backticks so data can never close (or open) a ``` fence. */
function defuseFences(text: string): string {
  return text.replace(/`{3,}/g, (run) => run.split('').join('\u200b'));
}

/** `text` made safe to sit between ``` fences: escaped, fences defused. */
export function codeSafe(text: string): string {
  return defuseFences(escapeMrkdwn(text));
}

/** Cut a multi-line body at a line boundary when possible, saying how much is missing. */
function truncateBody(body: string, room: number): string {
  if (body.length <= room) return body;
  const keep = Math.max(0, room - 60);
  const at = body.lastIndexOf('\n', keep);
  if (at > keep / 2) {
    const omitted = body.slice(at + 1).split('\n').length;
    return `${body.slice(0, at)}\n… ${omitted} more line${omitted === 1 ? '' : 's'} not shown`;
  }
  const cut = safeCut(body, keep);
  return `${cut}\n… ${body.length - cut.length} more characters not shown`;
}

/** A ``` fenced block of raw `text` (escaped here), at most `max` characters including the fences. */
export function codeBlock(text: string, max: number): string {
  const body = codeSafe(text.replace(/\s+$/, '')) || ' ';
  return '```\n' + truncateBody(body, Math.max(1, max - 8)) + '\n```';
}

export function mrkdwn(text: string, max = MAX_TEXT): MrkdwnElement {
  // verbatim: Slack then does no auto-linking or @-mention parsing of its own.
  return { type: 'mrkdwn', text: truncateText(text || '—', max), verbatim: true };
}
export const section = (text: string): SectionBlock => ({ type: 'section', text: mrkdwn(text) });
export const context = (text: string): ContextBlock => ({ type: 'context', elements: [mrkdwn(text)] });
export const header = (text: string): HeaderBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: truncateText(text || '—', MAX_HEADER, '…'), emoji: true },
});

export interface ButtonSpec {
  text: string;
  actionId: string;
  value: unknown;
  style?: 'primary' | 'danger';
  confirm?: { title: string; text: string; confirm: string; deny?: string };
}

const plain = (text: string, max: number) => ({
  type: 'plain_text' as const,
  text: truncateText(text, max, '…'),
  emoji: true,
});

/** A button whose value is JSON; null when that value cannot fit (the caller says so). */
export function button(spec: ButtonSpec): Button | null {
  const value = JSON.stringify(spec.value);
  if (value.length > SLACK_LIMITS.buttonValueChars) return null;
  const b: Button = {
    type: 'button',
    action_id: spec.actionId,
    text: plain(spec.text, MAX_BUTTON_TEXT),
    value,
  };
  if (spec.style) b.style = spec.style;
  if (spec.confirm)
    b.confirm = {
      title: plain(spec.confirm.title, 100),
      text: plain(spec.confirm.text, MAX_CONFIRM_TEXT),
      confirm: plain(spec.confirm.confirm, 30),
      deny: plain(spec.confirm.deny ?? 'Cancel', 30),
    };
  return b;
}

/** One actions block; Slack rejects two elements with the same action_id in one block, so callers split those. */
export function actions(buttons: (Button | null)[]): ActionsBlock | null {
  const elements = buttons.filter((b): b is Button => b !== null).slice(0, 25);
  return elements.length > 0 ? { type: 'actions', elements } : null;
}

/** Characters of text a block carries (what Slack's cumulative limit counts, roughly). */
export function textLength(blocks: readonly unknown[]): number {
  const walk = (v: unknown): number => {
    if (Array.isArray(v)) return v.reduce((n: number, x) => n + walk(x), 0);
    if (v === null || typeof v !== 'object') return 0;
    let n = 0;
    for (const [k, x] of Object.entries(v))
      n += typeof x === 'string' ? (k === 'text' || k === 'value' ? x.length : 0) : walk(x);
    return n;
  };
  return walk(blocks);
}

/**
 * The leading items that fit in `room` (blocks, characters); `omitted` sums the weights of the
 * rest (e.g. steps), for a note that counts what the reader cares about.
 */
export function fitItems(
  items: { block: KnownBlock; weight: number }[],
  room: { blocks: number; chars: number },
): { blocks: KnownBlock[]; omitted: number } {
  const blocks: KnownBlock[] = [];
  let used = 0;
  let omitted = 0;
  for (const item of items) {
    const n = textLength([item.block]);
    if (omitted > 0 || blocks.length >= room.blocks || used + n > room.chars) omitted += item.weight;
    else {
      blocks.push(item.block);
      used += n;
    }
  }
  return { blocks, omitted };
}

type Note = string | ((omitted: number) => string);

/**
 * The blocks in order while they fit in `maxBlocks` and `budget` characters; the overflow is
 * replaced by one context block: `note`, or `note(n)` with the number of blocks cut.
 */
export function fitBlocks(
  blocks: KnownBlock[],
  note: Note,
  maxBlocks: number = MAX_BLOCKS,
  budget: number = MESSAGE_TEXT_BUDGET,
): KnownBlock[] {
  if (blocks.length <= maxBlocks && textLength(blocks) <= budget) return blocks;
  const kept: KnownBlock[] = [];
  let used = 0;
  for (const b of blocks) {
    const n = textLength([b]);
    if (kept.length >= maxBlocks - 1 || used + n > budget - NOTE_ROOM) break;
    kept.push(b);
    used += n;
  }
  const omitted = blocks.length - kept.length;
  const text = typeof note === 'string' ? note : note(omitted);
  return [...kept, context(truncateText(`:scissors: ${text}`, NOTE_ROOM - 20, '…'))];
}

/** A whole message: `body` fitted around a `tail` (buttons) that is always kept. */
export function composeMessage(
  fallback: string,
  body: KnownBlock[],
  note: Note,
  tail: (KnownBlock | null)[] = [],
): SlackMessage {
  const end = tail.filter((b): b is KnownBlock => b !== null);
  const fitted = fitBlocks(body, note, MAX_BLOCKS - end.length, MESSAGE_TEXT_BUDGET - textLength(end));
  return { text: truncateText(fallback, SLACK_LIMITS.fallbackTextChars, '…'), blocks: [...fitted, ...end] };
}

/**
 * Lines (already mrkdwn-safe) packed into as few sections as fit in `budget` characters; lines
 * past the budget are replaced by `more(n)`.
 */
export function lineSections(
  lines: string[],
  budget: number,
  more: (omitted: number) => string,
): SectionBlock[] {
  return pack(lines, budget, more, (chunk) => chunk.join('\n'), 0);
}

/** Lines of monospace text (raw; escaped here) in ``` sections, `head` repeated atop each. */
export function codeSections(
  lines: string[],
  budget: number,
  more: (omitted: number) => string,
  head: string[] = [],
): SectionBlock[] {
  const safeHead = head.map(codeSafe);
  const overhead = 8 + safeHead.join('\n').length + 1;
  const fence = (chunk: string[]) => '```\n' + [...safeHead, ...chunk].join('\n') + '\n```';
  return pack(lines.map(codeSafe), budget, more, fence, overhead);
}

function pack(
  lines: string[],
  budget: number,
  more: (omitted: number) => string,
  render: (chunk: string[]) => string,
  overhead: number,
): SectionBlock[] {
  const chunkRoom = MAX_TEXT - NOTE_ROOM - overhead;
  const fill = (room: number) => {
    const chunks: string[][] = [];
    let size = 0;
    let used = 0;
    let shown = 0;
    for (const raw of lines) {
      const line = truncateText(raw, chunkRoom - 1, '…');
      const fresh = chunks.length === 0 || size + line.length + 1 > chunkRoom;
      const cost = line.length + 1 + (fresh ? overhead : 0);
      if (used + cost > room) break;
      if (fresh) {
        chunks.push([]);
        size = 0;
      }
      chunks[chunks.length - 1]!.push(line);
      size += line.length + 1;
      used += cost;
      shown++;
    }
    return { chunks, shown };
  };
  let { chunks, shown } = fill(budget);
  if (shown < lines.length) ({ chunks, shown } = fill(budget - NOTE_ROOM));
  const texts = chunks.map(render);
  const omitted = lines.length - shown;
  if (omitted > 0) {
    const note = truncateText(more(omitted), NOTE_ROOM - 10, '…');
    if (texts.length > 0) texts[texts.length - 1] += '\n' + note;
    else texts.push(note);
  }
  return texts.map(section);
}
