import type { KnownBlock } from '@slack/types';
import type { SlackMessage } from '../slack/blocks/types';

/** A button as the terminal offers it: a numbered choice that clicks the same action Slack would. */
export interface ShellButton {
  label: string;
  actionId: string;
  value: string;
  /** Slack's confirmation dialog, asked as a yes/no question before the click counts. */
  confirm?: { title: string; text: string };
}

export interface RenderedMessage {
  lines: string[];
  buttons: ShellButton[];
}

/** The emoji the renderers use, as the characters a terminal shows. */
const EMOJI: Record<string, string> = {
  white_check_mark: '✅',
  x: '❌',
  warning: '⚠️',
  rotating_light: '🚨',
  mag: '🔍',
  pencil2: '✏️',
  hourglass_flowing_sand: '⏳',
  arrows_counterclockwise: '🔄',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  recycle: '♻️',
  grey_question: '❔',
  star: '⭐',
  scissors: '✂️',
  arrow_forward: '▶️',
  fast_forward: '⏩',
  white_circle: '⚪',
};

/** Slack's mrkdwn as plain terminal text: code blocks indented, markup and escapes undone. */
export function mrkdwnToText(mrkdwn: string): string[] {
  const out: string[] = [];
  mrkdwn.split('```').forEach((part, i) => {
    if (i % 2 === 1) {
      for (const line of part.replace(/^\n|\n$/g, '').split('\n')) out.push(`    ${unescape(line)}`);
      return;
    }
    const text = part.replace(/^\n|\n$/g, '');
    if (text === '') return;
    for (const line of text.split('\n')) out.push(unescape(prose(line)));
  });
  return out;
}

function prose(line: string): string {
  return line
    .replace(/<@([A-Za-z0-9._-]+)>/g, '@$1')
    .replace(/<(?:https?|mailto):[^|>]+\|([^>]+)>/g, '$1')
    .replace(/<((?:https?|mailto):[^>]+)>/g, '$1')
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, '$1$2')
    .replace(/:([a-z0-9_]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

function unescape(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

type TextObject = { type: string; text: string };

function textOf(t: TextObject): string[] {
  return t.type === 'mrkdwn' ? mrkdwnToText(t.text) : t.text.split('\n');
}

/** A Block Kit message as lines of text plus its buttons, in order. */
export function renderMessage(message: SlackMessage): RenderedMessage {
  if (message.blocks.length === 0) return { lines: message.text.split('\n'), buttons: [] };
  const lines: string[] = [];
  const buttons: ShellButton[] = [];
  for (const block of message.blocks as KnownBlock[]) {
    switch (block.type) {
      case 'header':
        lines.push(`== ${block.text.text} ==`);
        break;
      case 'section':
        if (block.text) lines.push(...textOf(block.text));
        for (const f of block.fields ?? []) lines.push(...textOf(f));
        break;
      case 'context':
        lines.push(
          block.elements
            .map((e) => ('text' in e && typeof e.text === 'string' ? textOf(e as TextObject).join(' ') : ''))
            .filter(Boolean)
            .join(' · '),
        );
        break;
      case 'divider':
        lines.push('─'.repeat(40));
        break;
      case 'actions':
        for (const e of block.elements) {
          if (e.type !== 'button') continue;
          buttons.push({
            label: e.text.text,
            actionId: e.action_id ?? '',
            value: e.value ?? '',
            ...(e.confirm
              ? { confirm: { title: e.confirm.title?.text ?? 'Sure?', text: e.confirm.text?.text ?? '' } }
              : {}),
          });
        }
        break;
      default:
        break;
    }
  }
  return { lines, buttons };
}
