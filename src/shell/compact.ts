/**
 * The chat shell's compact rendering (the default at a terminal): every line within 80 columns,
 * names without Slack markup, a step result in one line, an approval request as its gate and its
 * choices, the rest of a long message on request (/details mN).
 */
export const COMPACT_WIDTH = 80;
/** A top-level message longer than this shows its first lines and a /details hint. */
const TOP_LINES = 24;
/** An update shows at most this many changed lines. */
const UPDATE_LINES = 2;

/** Columns a terminal gives a character: emoji and their kin take two. */
function columns(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp === 0xfe0f || cp === 0x200d) return 0; // variation selector, joiner
  return (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x2600 && cp <= 0x27bf) || (cp >= 0x2b00 && cp <= 0x2bff)
    ? 2
    : 1;
}

/** How many columns `text` takes on a terminal. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += columns(ch);
  return w;
}

/** One line within `width` columns: markup backticks dropped, cut with "…". */
export function fit(line: string, width = COMPACT_WIDTH): string {
  const plain = line.replace(/`/g, '').replace(/\s+$/, '');
  if (displayWidth(plain) <= width) return plain;
  let out = '';
  let w = 0;
  for (const ch of plain) {
    if (w + columns(ch) > width - 1) break;
    out += ch;
    w += columns(ch);
  }
  return out + '…';
}

/** Numbered choices, as many to a line as fit in 80 columns. */
export function choiceLines(items: string[], indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    const next = line ? `${line}   ${item}` : `${indent}${item}`;
    if (line && displayWidth(next) > COMPACT_WIDTH) {
      lines.push(line);
      line = `${indent}${item}`;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.map((l) => fit(l));
}

const more = (n: number, ts: string) => `(+${n} more line${n === 1 ? '' : 's'}: /details ${ts})`;

/** What a new message prints (without its choices): `lines` as renderMessage made them. */
export function compactPost(ts: string, lines: string[], hasButtons: boolean, threadTs?: string): string[] {
  const body = lines.filter((l) => l.trim() !== '' && !/^─+$/.test(l));
  if (threadTs) {
    const [first = '', ...rest] = body;
    // A person must act on it: the gate and who asked, then the choices; its SQL on request.
    if (hasButtons) {
      const shown = body.slice(0, 2).map((l, i) => fit(i === 0 ? `  ↳ [${ts}] ${l}` : `    ${l}`));
      return body.length > 2 ? [...shown, fit(`    ${more(body.length - 2, ts)}`)] : shown;
    }
    // What is left to do by hand, and a failure, are the summary: shown whole.
    if (/^(⚠️|❌)/.test(first)) return body.map((l, i) => fit(i === 0 ? `  ↳ ${l}` : `    ${l}`));
    const suffix = rest.length > 0 ? ` (/details ${ts})` : '';
    const head = fit(`  ↳ ${first}`, COMPACT_WIDTH - displayWidth(suffix));
    return [head + suffix];
  }
  const shown = body.slice(0, TOP_LINES).map((l) => fit(l));
  const out = [`[${ts}]`, ...shown];
  if (body.length > TOP_LINES) out.push(fit(more(body.length - TOP_LINES, ts)));
  return out;
}

/**
 * What an update prints: a changed first line (the run's state, a decision on an approval) and
 * the progress of a long step; the rest of a redraw (each step's line) is in the step results.
 */
export function compactUpdate(ts: string, changed: string[], firstLine: string | undefined): string[] {
  const lines = changed.filter((l) => l.trim() !== '' && (l === firstLine || /iB(\/s| of ~)/.test(l)));
  if (lines.length === 0) return [];
  const out = lines.slice(0, UPDATE_LINES).map((l) => fit(`  ✎ [${ts}] ${l.trim()}`));
  if (lines.length > UPDATE_LINES) out.push(fit(`    ${more(lines.length - UPDATE_LINES, ts)}`));
  return out;
}
