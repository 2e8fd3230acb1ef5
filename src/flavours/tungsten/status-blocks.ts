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
import type { TungstenReport } from './report';
import { TUNGSTEN_STATUS_COLUMNS, tungstenProposalLine, tungstenStatusRow } from './status-text';

const BUDGET = { table: 4200, lines: 2400 };

/** `/recover status` of a Tungsten cluster: nodes, the proposal with a verdict per node, refusals. */
export function tungstenStatusMessage(r: TungstenReport, runbooks: string[]): SlackMessage {
  const term = inline(`recover status --topology ${r.topology}`);
  const more = (what: string) => (n: number) =>
    `… ${plural(n, what)} not shown — run ${term} in a terminal for all`;
  const [h1 = '', h2 = '', ...rows] = alignedTable(
    TUNGSTEN_STATUS_COLUMNS,
    r.nodes.map(tungstenStatusRow),
  ).split('\n');
  const p = r.proposal;
  const body: KnownBlock[] = [
    header(`Status: ${r.topology}`),
    context(
      `${escapeMrkdwn(r.flavour)} · probed ${escapeMrkdwn(r.probedAt)} in ${r.durationMs} ms · ${plural(r.nodes.length, 'node')}`,
    ),
    ...codeSections(rows, BUDGET.table, more('more node'), [h1, h2]),
    section(truncateText(`*Proposal:* ${escapeMrkdwn(tungstenProposalLine(r))}`, 1000)),
    ...lineSections(
      r.nodes.map(
        (n) =>
          `${n.role === 'primary' ? ':star:' : r.unknown.includes(n.name) ? ':grey_question:' : '•'} ${inline(n.name)}  ${escapeMrkdwn(p.verdicts[n.name] ?? '—')}`,
      ),
      BUDGET.lines,
      more('more node'),
    ),
  ];
  if (p.refusals.length > 0)
    body.push(
      ...lineSections(
        [
          '*Refused* (tungsten-external-restore)',
          ...p.refusals.map(
            (x) =>
              `:no_entry: ${escapeMrkdwn(`${x.node ? `${x.node}: ` : ''}${x.message}`)} (${inline(x.code)})`,
          ),
        ],
        BUDGET.lines,
        more('more refusal'),
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
    escapeMrkdwn(`Status of ${r.topology}: ${tungstenProposalLine(r)}`),
    body,
    (n) => `${plural(n, 'more part')} of this status not shown — run ${term} in a terminal for all`,
    statusButtons(r.topology, runbooks),
  );
}
