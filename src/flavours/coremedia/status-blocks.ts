import type { KnownBlock } from '@slack/types';
import type { NodeReport } from './report';
import { STATUS_COLUMNS, statusRow } from './status-text';
import { alignedTable } from '../../render/table';
import type { CoremediaReport as StatusReport } from './report';
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
import type { SlackMessage } from '../../slack/blocks/types';
import { statusButtons } from '../../slack/blocks/status-buttons';

const dash = '—';
/** Characters each part may take, so that a 200-node fleet still leaves room for the rest. */
const BUDGET = { table: 4200, unknown: 1200, verdicts: 2400, warnings: 1400 };

/** `/recover status`: the terminal's table, proposal, verdicts and warnings, plus Refresh and Plan buttons. */
export function statusMessage(report: StatusReport, runbooks: string[]): SlackMessage {
  const forAll = `in a terminal for all`;
  const term = inline(`recover status --topology ${report.topology}`);
  const [head1 = '', head2 = '', ...rows] = alignedTable(STATUS_COLUMNS, report.nodes.map(tableRow)).split(
    '\n',
  );

  const body: KnownBlock[] = [
    header(`Status: ${report.topology}`),
    context(
      `${escapeMrkdwn(report.flavour)} · probed ${escapeMrkdwn(report.probedAt)} in ${report.durationMs} ms · ${plural(report.nodes.length, 'node')}`,
    ),
    ...codeSections(
      rows,
      BUDGET.table,
      (n) => `… ${plural(n, 'more node')} not shown — run ${term} ${forAll}`,
      [head1, head2],
    ),
  ];

  const errors = report.nodes.filter((n) => n.error);
  if (errors.length > 0)
    body.push(
      ...lineSections(
        ['*Unknown nodes*', ...errors.map((n) => `:x: ${inline(n.name)}: ${escapeMrkdwn(n.error ?? '')}`)],
        BUDGET.unknown,
        (n) => `… ${plural(n, 'more unknown node')} not shown — run ${term} ${forAll}`,
      ),
    );

  body.push(section(proposalLine(report)));
  // The chosen slave first, so that a cut list never hides the proposal's reason.
  const slaves = report.nodes
    .filter((n) => n.role === 'slave')
    .sort((a, b) => Number(b.name === report.dedicatedSlave) - Number(a.name === report.dedicatedSlave));
  if (slaves.length > 0)
    body.push(
      ...lineSections(
        slaves.map(
          (n) =>
            `${verdictIcon(report, n.name)} ${inline(n.name)}  ${escapeMrkdwn(report.verdicts[n.name] ?? dash)}`,
        ),
        BUDGET.verdicts,
        (n) => `… ${plural(n, 'more slave')} not shown — run ${term} ${forAll}`,
      ),
    );
  if (report.toRestore.length > 0)
    body.push(
      section(
        truncateText(
          `*To restore from the dedicated backup:* ${escapeMrkdwn(report.toRestore.join(', '))}`,
          600,
          `… (${report.toRestore.length} in all)`,
        ),
      ),
    );
  if (report.warnings.length > 0)
    body.push(
      ...lineSections(
        ['*Warnings*', ...report.warnings.map((w) => `:warning: ${escapeMrkdwn(w.message)}`)],
        BUDGET.warnings,
        (n) => `… ${plural(n, 'more warning')} not shown — run ${term} ${forAll}`,
      ),
    );

  const fallback = `Status of ${report.topology}: ${proposalText(report)}`;
  return composeMessage(
    escapeMrkdwn(fallback),
    body,
    (n) => `${plural(n, 'more part')} of this status not shown — run ${term} ${forAll}`,
    statusButtons(report.topology, runbooks),
  );
}

function tableRow(n: NodeReport): string[] {
  // Upper case so an unknown node stands out in a wall of "ok".
  const state = (x: NodeReport) =>
    !x.reachable ? 'UNREACHABLE' : x.error ? 'ERROR' : x.service === 'stopped' ? 'SERVICE DOWN' : 'ok';
  return statusRow(n, state).map((cell) => truncateText(cell, 40, '…'));
}

function verdictIcon(r: StatusReport, name: string): string {
  if (name === r.dedicatedSlave) return ':star:';
  if (r.unknown.includes(name)) return ':grey_question:';
  if (r.toRestore.includes(name)) return ':arrows_counterclockwise:';
  if (r.inSync.includes(name)) return ':white_check_mark:';
  return '•';
}

/** The terminal's proposal line, in plain words (escaped by the caller where needed). */
function proposalText(r: StatusReport): string {
  if (r.dedicatedSequence === null) return 'dedicated sequence number unknown (no slave could be read)';
  const tie = r.tie ? ` (TIE between ${r.tiedSequences.join(', ')}: confirm)` : '';
  const slave = r.dedicatedSlave
    ? `dedicated slave ${r.dedicatedSlave}${r.fallback ? ' (FALLBACK: confirm)' : ''}`
    : 'no dedicated slave qualifies';
  return `dedicated sequence number ${r.dedicatedSequence}${tie}; ${slave}`;
}

function proposalLine(r: StatusReport): string {
  if (r.dedicatedSequence === null)
    return '*Dedicated sequence number:* unknown (no slave could be read) :warning:';
  const tie = r.tie ? ` (TIE between ${escapeMrkdwn(r.tiedSequences.join(', '))}) :warning: confirm` : '';
  const slave = r.dedicatedSlave
    ? `${inline(r.dedicatedSlave)}${r.fallback ? ' (FALLBACK) :warning: confirm' : ''}`
    : 'none qualifies :warning:';
  return truncateText(
    `*Dedicated sequence number:* ${r.dedicatedSequence}${tie}; *dedicated slave:* ${slave}`,
    1000,
  );
}
