import type { KnownBlock } from '@slack/types';
import type { StatusReport } from '../../flavours/types';
import { alignedTable } from '../../render/table';
import {
  codeSections,
  composeMessage,
  context,
  escapeMrkdwn,
  header,
  lineSections,
  section,
  truncateText,
} from './limits';
import { inline, plural } from './parts';
import { statusButtons } from './status-buttons';
import type { SlackMessage } from './types';

const BUDGET = { table: 4200, lines: 2400 };

/** What a flavour puts in its `/recover status` message; the layout and Slack's limits are shared. */
export interface StatusMessageParts {
  /** What the fleet's members are called: 'node', 'replica'. */
  noun: string;
  columns: string[];
  rows: string[][];
  proposalLine: string;
  /** One line per node, already mrkdwn (see verdictLine). */
  nodeLines: string[];
  /** Further titled lists (refusals, a closed gate…), shown only when they have lines; mrkdwn. */
  lists: { title: string; lines: string[]; noun: string }[];
}

/** A node's line under the proposal: its mark (:star: the chosen one, :grey_question: unread), name and verdict. */
export function verdictLine(mark: string, name: string, verdict: string | undefined): string {
  return `${mark} ${inline(name)}  ${escapeMrkdwn(verdict ?? '—')}`;
}

/** A refusal's line: its message and code. */
export function refusalLine(message: string, code: string): string {
  return `:no_entry: ${escapeMrkdwn(message)} (${inline(code)})`;
}

/** `/recover status` of a fleet: the table, the proposal with a verdict per node, the flavour's lists, warnings. */
export function flavourStatusMessage(
  r: StatusReport,
  runbooks: string[],
  parts: StatusMessageParts,
): SlackMessage {
  const term = inline(`recover status --topology ${r.topology}`);
  const more = (what: string) => (n: number) =>
    `… ${plural(n, what)} not shown — run ${term} in a terminal for all`;
  const [h1 = '', h2 = '', ...rows] = alignedTable(parts.columns, parts.rows).split('\n');
  const body: KnownBlock[] = [
    header(`Status: ${r.topology}`),
    context(
      `${escapeMrkdwn(r.flavour)} · probed ${escapeMrkdwn(r.probedAt)} in ${r.durationMs} ms · ${plural(r.nodes.length, parts.noun)}`,
    ),
    ...codeSections(rows, BUDGET.table, more(`more ${parts.noun}`), [h1, h2]),
    section(truncateText(`*Proposal:* ${escapeMrkdwn(parts.proposalLine)}`, 1000)),
    ...lineSections(parts.nodeLines, BUDGET.lines, more(`more ${parts.noun}`)),
  ];
  const warnings = r.warnings.map((w) => `:warning: ${escapeMrkdwn(w.message)}`);
  for (const list of [...parts.lists, { title: '*Warnings*', lines: warnings, noun: 'warning' }]) {
    if (list.lines.length === 0) continue;
    body.push(...lineSections([list.title, ...list.lines], BUDGET.lines, more(`more ${list.noun}`)));
  }
  return composeMessage(
    escapeMrkdwn(`Status of ${r.topology}: ${parts.proposalLine}`),
    body,
    (n) => `${plural(n, 'more part')} of this status not shown — run ${term} in a terminal for all`,
    statusButtons(r.topology, runbooks),
  );
}
