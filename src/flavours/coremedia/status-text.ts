import type { NodeReport } from './report';
import type { CoremediaReport as StatusReport } from './report';
import { alignedTable } from '../../render/table';

const dash = '—';

/** The terminal rendering of `recover status`: a node table, the proposal, the warnings. */
export const STATUS_COLUMNS = [
  'NODE',
  'ROLE',
  'ENGINE',
  'STATE',
  'REMOTE',
  'LOCAL',
  'TAG',
  'REPL-ID ROWS',
  'SERVER TYPE',
  'LAST CHANGELOG',
  'LATENCY',
  'SERVICE',
];

/** One node as a row of STATUS_COLUMNS; unknown values are "—", never 0. Terminal and Slack share it. */
export function statusRow(n: NodeReport, state: (n: NodeReport) => string = stateOf): string[] {
  return [
    n.name,
    n.role,
    n.engine,
    state(n),
    show(n.replicatorRemote),
    show(n.replicatorLocal),
    show(n.replicatorTag),
    show(n.replicatorIdRows),
    show(n.serverType),
    n.lastChangelog ? `${n.lastChangelog.sequenceno} ${n.lastChangelog.idtag}` : dash,
    n.latencyMs === null ? dash : `${n.latencyMs} ms`,
    n.service ?? dash,
  ];
}

export function renderStatusText(report: StatusReport): string {
  const table = alignedTable(
    STATUS_COLUMNS,
    report.nodes.map((n) => statusRow(n)),
  );
  const out = [
    `Topology ${report.topology} (${report.flavour}), probed ${report.probedAt} in ${report.durationMs} ms`,
    '',
    table,
    '',
  ];

  const errors = report.nodes.filter((n) => n.error);
  if (errors.length > 0) {
    out.push('Unknown nodes:');
    for (const n of errors) out.push(`  ${n.name}: ${n.error}`);
    out.push('');
  }

  out.push(proposalLine(report));
  const slaves = report.nodes.filter((n) => n.role === 'slave');
  const width = Math.max(0, ...slaves.map((n) => n.name.length));
  for (const n of slaves) out.push(`  ${n.name.padEnd(width)}  ${report.verdicts[n.name] ?? dash}`);
  if (report.toRestore.length > 0)
    out.push(`To restore from the dedicated backup: ${report.toRestore.join(', ')}`);

  if (report.warnings.length > 0) {
    out.push('', 'Warnings:');
    for (const w of report.warnings) out.push(`  ! ${w.message}`);
  }
  return out.join('\n') + '\n';
}

function proposalLine(r: StatusReport): string {
  if (r.dedicatedSequence === null) return 'Dedicated sequence number: unknown (no slave could be read)';
  const seq = `Dedicated sequence number: ${r.dedicatedSequence}${r.tie ? ` (TIE between ${r.tiedSequences.join(', ')}: confirm)` : ''}`;
  const slave = r.dedicatedSlave
    ? `dedicated slave: ${r.dedicatedSlave}${r.fallback ? ' (FALLBACK: confirm)' : ''}`
    : 'dedicated slave: none qualifies';
  return `${seq}; ${slave}`;
}

function stateOf(n: NodeReport): string {
  if (!n.reachable) return 'unreachable';
  if (n.error) return 'error';
  return n.service === 'stopped' ? 'service down' : 'ok';
}

function show(v: string | number | null): string {
  return v === null || v === '' ? dash : String(v);
}
