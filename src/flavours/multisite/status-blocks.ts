import type { KnownBlock } from '@slack/types';
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
} from '../../slack/blocks/limits';
import { inline, plural } from '../../slack/blocks/parts';
import { statusButtons } from '../../slack/blocks/status-buttons';
import type { SlackMessage } from '../../slack/blocks/types';
import type { MultisiteReport } from './report';
import { MS_STATUS_COLUMNS, msProposalLine, msStatusRow } from './status-text';

const BUDGET = { table: 4200, lines: 2400 };

/** `/recover status` of a MultiSite family: replicas, the proposal with a verdict each, refusals. */
export function msStatusMessage(r: MultisiteReport, runbooks: string[]): SlackMessage {
  const term = inline(`recover status --topology ${r.topology}`);
  const more = (what: string) => (n: number) =>
    `… ${plural(n, what)} not shown — run ${term} in a terminal for all`;
  const [h1 = '', h2 = '', ...rows] = alignedTable(MS_STATUS_COLUMNS, r.nodes.map(msStatusRow)).split('\n');
  const p = r.proposal;
  const body: KnownBlock[] = [
    header(`Status: ${r.topology}`),
    context(
      `${escapeMrkdwn(r.flavour)} · probed ${escapeMrkdwn(r.probedAt)} in ${r.durationMs} ms · ${plural(r.nodes.length, 'replica')}`,
    ),
    ...codeSections(rows, BUDGET.table, more('more replica'), [h1, h2]),
    section(truncateText(`*Proposal:* ${escapeMrkdwn(msProposalLine(r))}`, 1000)),
    ...lineSections(
      r.nodes.map(
        (n) =>
          `${n.name === p.restore ? ':star:' : n.reachable && !n.error ? '•' : ':grey_question:'} ${inline(n.name)}  ${escapeMrkdwn(p.verdicts[n.name] ?? '—')}`,
      ),
      BUDGET.lines,
      more('more replica'),
    ),
  ];
  if (p.refusals.length > 0)
    body.push(
      ...lineSections(
        ['*Refused*', ...p.refusals.map((x) => `:no_entry: ${escapeMrkdwn(x.message)} (${inline(x.code)})`)],
        BUDGET.lines,
        more('more refusal'),
      ),
    );
  if (p.step3.blocking.length > 0)
    body.push(
      ...lineSections(
        ['*Step 3 closed by*', ...p.step3.blocking.map((b) => `:hourglass: ${escapeMrkdwn(b)}`)],
        BUDGET.lines,
        more('more'),
      ),
    );
  if (r.warnings.length > 0)
    body.push(
      ...lineSections(
        ['*Warnings*', ...r.warnings.map((w) => `:warning: ${escapeMrkdwn(w.message)}`)],
        BUDGET.lines,
        more('more warning'),
      ),
    );
  return composeMessage(
    escapeMrkdwn(`Status of ${r.topology}: ${msProposalLine(r)}`),
    body,
    (n) => `${plural(n, 'more part')} of this status not shown — run ${term} in a terminal for all`,
    statusButtons(r.topology, runbooks),
  );
}
