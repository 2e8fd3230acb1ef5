import type { SlackMessage } from '../slack/blocks/types';
import type { MessageSink, SharedFile } from '../slack/outbox';
import { choiceLines, compactPost, compactUpdate, fit } from './compact';
import { mrkdwnToText, renderMessage, type ShellButton } from './render-message';

/** A button on screen: its number is what the user types to click it. */
export interface Choice extends ShellButton {
  number: number;
  /** The message it belongs to (what Slack calls the message ts). */
  ts: string;
}

interface Shown {
  lines: string[];
  buttons: ShellButton[];
  threadTs?: string;
}

/**
 * The chat shell's Slack: messages become text on the terminal, buttons numbered choices. An
 * update prints only the lines that changed (Slack would redraw the message in place), and
 * replaces that message's choices: a button removed in Slack can no longer be clicked here.
 */
export class TerminalOutbox implements MessageSink {
  private readonly shown = new Map<string, Shown>();
  private readonly choices = new Map<number, Choice>();
  private nextMessage = 1;
  private nextChoice = 1;
  /** The file being paged: its lines and the first not yet shown. */
  private paging: { lines: string[]; next: number; name: string } | null = null;

  private readonly pageLines: number;
  private compact: boolean;
  private lastTs: string | undefined;

  /**
   * `pageLines`: a shared file is shown this many lines at a time (/more for the next page);
   * `compact`: 80 columns, one line per step result, details on request (compact.ts).
   */
  constructor(
    private readonly write: (text: string) => void,
    options: { pageLines?: number; compact?: boolean } = {},
  ) {
    this.pageLines = options.pageLines ?? Infinity;
    this.compact = options.compact ?? false;
  }

  /** Compact (true) or every line of every message (false). */
  setCompact(compact: boolean): void {
    this.compact = compact;
  }

  /** Every line of message `ts` (default: the newest), as the full rendering shows it; false if none. */
  details(ts?: string): boolean {
    const key = ts ?? this.lastTs;
    const shown = key ? this.shown.get(key) : undefined;
    if (!key || !shown) return false;
    this.print([`[${key}] in full:`, ...shown.lines.map((l) => `  ${l}`)]);
    return true;
  }

  async post(_channel: string, message: SlackMessage, threadTs?: string): Promise<{ ts: string }> {
    const ts = `m${this.nextMessage++}`;
    const { lines, buttons } = renderMessage(message);
    this.shown.set(ts, { lines, buttons, ...(threadTs ? { threadTs } : {}) });
    this.lastTs = ts;
    if (this.compact) {
      this.print([
        ...compactPost(ts, lines, buttons.length > 0, threadTs),
        ...this.offer(ts, buttons, '   '),
      ]);
      return { ts };
    }
    const indent = threadTs ? '  │ ' : '';
    const head = threadTs ? `  ↳ [${ts} in ${threadTs}]` : `[${ts}]`;
    this.print([head, ...lines.map((l) => indent + l), ...this.offer(ts, buttons, indent)]);
    return { ts };
  }

  async update(_channel: string, ts: string, message: SlackMessage): Promise<void> {
    const before = this.shown.get(ts);
    const { lines, buttons } = renderMessage(message);
    this.shown.set(ts, { lines, buttons, ...(before?.threadTs ? { threadTs: before.threadTs } : {}) });
    const old = new Set(before?.lines ?? []);
    const changed = lines.filter((l) => !old.has(l));
    // The same buttons keep their numbers; changed buttons replace the old choices.
    const sameButtons = JSON.stringify(buttons) === JSON.stringify(before?.buttons ?? []);
    if (!sameButtons) for (const [n, c] of this.choices) if (c.ts === ts) this.choices.delete(n);
    const offered = sameButtons ? [] : this.offer(ts, buttons, '  ');
    if (changed.length === 0 && offered.length === 0) return;
    if (this.compact) {
      const shown = [...compactUpdate(ts, changed, lines[0]), ...offered];
      if (shown.length > 0) this.print(shown);
      return;
    }
    this.print([`  ✎ [${ts}] updated:`, ...changed.map((l) => `  ${l}`), ...offered]);
  }

  async ephemeral(_channel: string, user: string, message: SlackMessage): Promise<void> {
    const { lines } = renderMessage(message);
    const shown = this.compact ? lines.map((l) => fit(`  ${l}`)) : lines.map((l) => `  ${l}`);
    this.print([`(only ${user} sees this)`, ...shown]);
  }

  /** A file is shown whole, a page at a time: nothing is cut. */
  async upload(_channel: string, file: SharedFile, comment: string): Promise<void> {
    const ts = `m${this.nextMessage++}`;
    const lines = file.content.replace(/\n$/, '').split('\n');
    this.print([
      `[${ts}] ${mrkdwnToText(comment).join(' ').trim()}`,
      `  📎 ${file.filename}: ${file.title}, ${lines.length} lines`,
    ]);
    this.paging = { lines, next: 0, name: file.filename };
    this.more();
  }

  /** The next page of the file being shown; false when there is none. */
  more(): boolean {
    const p = this.paging;
    if (!p || p.next >= p.lines.length) return false;
    const end = Math.min(p.lines.length, p.next + this.pageLines);
    const page = p.lines.slice(p.next, end).map((l) => `  ${l}`);
    const left = p.lines.length - end;
    if (left > 0)
      page.push(
        `  -- lines ${p.next + 1}–${end} of ${p.lines.length} of ${p.name}: /more for the next ${Math.min(left, this.pageLines)} --`,
      );
    p.next = end;
    if (left === 0) this.paging = null;
    this.print(page);
    return true;
  }

  async drain(): Promise<void> {}

  close(): void {}

  /** A choice by number, or the newest button whose label matches (case-insensitive). */
  choice(ref: string): Choice | undefined {
    const n = Number(ref);
    if (Number.isInteger(n) && n > 0) return this.choices.get(n);
    const label = ref.trim().toLowerCase();
    return [...this.choices.values()].reverse().find((c) => c.label.toLowerCase() === label);
  }

  private offer(ts: string, buttons: ShellButton[], indent: string): string[] {
    if (buttons.length === 0) return [];
    const items = buttons.map((b) => {
      const number = this.nextChoice++;
      this.choices.set(number, { ...b, number, ts });
      return `[${number}] ${b.label}`;
    });
    return this.compact ? choiceLines(items, `${indent}  `) : [`${indent}  ${items.join('   ')}`];
  }

  private print(lines: string[]): void {
    this.write(lines.join('\n') + '\n');
  }
}
