import { alignedTable } from '../../render/table';
import type { PostgresNodeStatus, PostgresReport } from './report';

const dash = '—';
const show = (v: unknown): string => (v === null || v === undefined ? dash : String(v));

export const PG_STATUS_COLUMNS = [
  'NODE',
  'ROLE',
  'STATE',
  'SERVICE',
  'TL',
  'RECEIVE',
  'REPLAY',
  'STREAMING',
  'LAG',
  'DC',
];

/** One node as a row; unknown values are "—", never 0 (Slack shares it). */
export function pgStatusRow(n: PostgresNodeStatus): string[] {
  const state = !n.reachable ? 'UNREACHABLE' : n.error ? 'ERROR' : n.replayPaused ? 'PAUSED' : 'ok';
  const streaming =
    n.role !== 'standby' ? dash : n.streaming ? `yes${n.upstream ? ` ← ${n.upstream}` : ''}` : 'NO';
  return [
    n.name,
    n.role,
    state,
    show(n.service),
    show(n.timeline),
    show(n.role === 'primary' ? n.currentLsn : n.receiveLsn),
    show(n.replayLsn),
    streaming,
    n.lagBytes === null ? dash : `${n.lagBytes} B`,
    show(n.dataCenter),
  ];
}

/** The proposal in one line: the candidate, or why there is none; the refusals that stand. */
export function pgProposalLine(r: PostgresReport): string {
  const p = r.proposal;
  const primary = r.nodes.filter((n) => n.role === 'primary').map((n) => n.name);
  const head =
    primary.length === 1
      ? `primary ${primary[0]} answers`
      : primary.length > 1
        ? `${primary.length} PRIMARIES (${primary.join(', ')})`
        : 'no primary answers';
  const cand = p.candidate ? `failover candidate ${p.candidate}` : 'no failover candidate';
  const loss = p.lossBytesEstimate === null ? 'loss unknown' : `estimated loss ${p.lossBytesEstimate} bytes`;
  const refused = p.refusals.length > 0 ? `; REFUSED: ${p.refusals.map((x) => x.code).join(', ')}` : '';
  return `${head}; ${cand} (${loss}, old primary ${p.fenced === true ? 'fenced' : p.fenced === false ? 'NOT fenced' : 'fencing unknown'})${refused}`;
}

/** `recover status` of a postgres-streaming fleet in a terminal. */
export function renderPgStatusText(r: PostgresReport): string {
  const out = [
    `Topology ${r.topology} (${r.flavour}), probed ${r.probedAt} in ${r.durationMs} ms`,
    '',
    alignedTable(PG_STATUS_COLUMNS, r.nodes.map(pgStatusRow)),
    '',
    `Proposal: ${pgProposalLine(r)}`,
    ...r.nodes.map(
      (n) =>
        `  ${n.name === r.proposal.candidate ? '*' : '-'} ${n.name}: ${r.proposal.verdicts[n.name] ?? dash}`,
    ),
  ];
  const errors = r.nodes.filter((n) => n.error);
  if (errors.length > 0) out.push('', 'Unknown:', ...errors.map((n) => `  ✗ ${n.name}: ${n.error}`));
  if (r.proposal.refusals.length > 0)
    out.push(
      '',
      'Refusals (a failover needs the allow-data-loss gate, approved by a second person):',
      ...r.proposal.refusals.map((x) => `  ! ${x.message} [${x.code}${x.liftable ? '' : ', no override'}]`),
    );
  if (r.warnings.length > 0) out.push('', 'Warnings:', ...r.warnings.map((w) => `  ! ${w.message}`));
  return out.join('\n') + '\n';
}
