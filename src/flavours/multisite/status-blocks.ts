import { escapeMrkdwn } from '../../slack/blocks/limits';
import { flavourStatusMessage, refusalLine, verdictLine } from '../../slack/blocks/flavour-status';
import type { SlackMessage } from '../../slack/blocks/types';
import type { MultisiteReport } from './report';
import { MS_STATUS_COLUMNS, msProposalLine, msStatusRow } from './status-text';

/** `/recover status` of a MultiSite family: replicas, the proposal with a verdict each, refusals. */
export function msStatusMessage(r: MultisiteReport, runbooks: string[]): SlackMessage {
  const p = r.proposal;
  return flavourStatusMessage(r, runbooks, {
    noun: 'replica',
    columns: MS_STATUS_COLUMNS,
    rows: r.nodes.map(msStatusRow),
    proposalLine: msProposalLine(r),
    nodeLines: r.nodes.map((n) =>
      verdictLine(
        n.name === p.restore ? ':star:' : n.reachable && !n.error ? '•' : ':grey_question:',
        n.name,
        p.verdicts[n.name],
      ),
    ),
    lists: [
      { title: '*Refused*', lines: p.refusals.map((x) => refusalLine(x.message, x.code)), noun: 'refusal' },
      {
        title: '*Step 3 closed by*',
        lines: p.step3.blocking.map((b) => `:hourglass: ${escapeMrkdwn(b)}`),
        noun: 'blocker',
      },
    ],
  });
}
