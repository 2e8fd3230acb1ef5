import { flavourStatusMessage, refusalLine, verdictLine } from '../../slack/blocks/flavour-status';
import type { SlackMessage } from '../../slack/blocks/types';
import type { TungstenReport } from './report';
import { TUNGSTEN_STATUS_COLUMNS, tungstenProposalLine, tungstenStatusRow } from './status-text';

/** `/recover status` of a Tungsten cluster: nodes, the proposal with a verdict per node, refusals. */
export function tungstenStatusMessage(r: TungstenReport, runbooks: string[]): SlackMessage {
  const p = r.proposal;
  return flavourStatusMessage(r, runbooks, {
    noun: 'node',
    columns: TUNGSTEN_STATUS_COLUMNS,
    rows: r.nodes.map(tungstenStatusRow),
    proposalLine: tungstenProposalLine(r),
    nodeLines: r.nodes.map((n) =>
      verdictLine(
        n.role === 'primary' ? ':star:' : r.unknown.includes(n.name) ? ':grey_question:' : '•',
        n.name,
        p.verdicts[n.name],
      ),
    ),
    lists: [
      {
        title: '*Refused* (tungsten-external-restore)',
        lines: p.refusals.map((x) => refusalLine(`${x.node ? `${x.node}: ` : ''}${x.message}`, x.code)),
        noun: 'refusal',
      },
    ],
  });
}
