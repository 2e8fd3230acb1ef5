import { flavourStatusMessage, refusalLine, verdictLine } from '../../slack/blocks/flavour-status';
import type { SlackMessage } from '../../slack/blocks/types';
import type { PostgresReport } from './report';
import { PG_STATUS_COLUMNS, pgProposalLine, pgStatusRow } from './status-text';

/** `/recover status` of a postgres-streaming fleet: nodes, proposal with a verdict per node, refusals. */
export function pgStatusMessage(r: PostgresReport, runbooks: string[]): SlackMessage {
  const p = r.proposal;
  return flavourStatusMessage(r, runbooks, {
    noun: 'node',
    columns: PG_STATUS_COLUMNS,
    rows: r.nodes.map(pgStatusRow),
    proposalLine: pgProposalLine(r),
    nodeLines: r.nodes.map((n) =>
      verdictLine(
        n.name === p.candidate ? ':star:' : n.reachable && !n.error ? '•' : ':grey_question:',
        n.name,
        p.verdicts[n.name],
      ),
    ),
    lists: [
      {
        title: '*Refused* (a failover needs the allow-data-loss gate, approved by a second person)',
        lines: p.refusals.map((x) => refusalLine(x.message, x.code)),
        noun: 'refusal',
      },
    ],
  });
}
