import { alignedTable } from '../../render/table';
import type { TungstenNodeStatus, TungstenReport } from './report';

const dash = '—';
const show = (v: unknown): string => (v === null || v === undefined ? dash : String(v));

export const TUNGSTEN_STATUS_COLUMNS = [
  'NODE',
  'ROLE',
  'DATASOURCE',
  'REPLICATOR',
  'APPLIED',
  'LATENCY',
  'TREP SEQNO',
  'THL',
];

/** One node as a row; unknown values are "—", never 0. */
export function tungstenStatusRow(n: TungstenNodeStatus): string[] {
  const ds = n.cluster
    ? `${n.cluster.state}${n.cluster.stateDetail ? `(${n.cluster.stateDetail})` : ''}`
    : n.reachable
      ? '?'
      : 'UNREACHABLE';
  const trep = n.trep === null ? dash : n.trep.map((t) => show(t.seqno)).join(',') || 'none';
  const thl = n.thl && n.thl.minSeqno !== null ? `${n.thl.minSeqno}..${show(n.thl.maxSeqno)}` : dash;
  return [
    n.name,
    n.role,
    ds,
    show(
      n.replicator?.state ??
        (n.cluster?.replicator?.state ? `${n.cluster.replicator.state} (manager)` : null),
    ),
    show(n.replicator?.appliedLastSeqno),
    n.replicator?.appliedLatency === null || n.replicator?.appliedLatency === undefined
      ? dash
      : `${n.replicator.appliedLatency}s`,
    trep,
    thl,
  ];
}

/** The proposal in one line. */
export function tungstenProposalLine(r: TungstenReport): string {
  const p = r.proposal;
  const cluster = r.cluster.known
    ? `coordinator ${r.cluster.coordinator?.host ?? '?'} (${r.cluster.coordinator?.policy ?? '?'})`
    : 'cluster view UNKNOWN (manager unreachable)';
  const head = p.primary ? `primary ${p.primary}` : 'no primary';
  const can =
    p.restorable.length > 0
      ? `restorable from a backup: ${p.restorable.join(', ')}`
      : 'no replica can be restored now';
  const refused =
    p.refusals.length > 0 ? `; REFUSED: ${[...new Set(p.refusals.map((x) => x.code))].join(', ')}` : '';
  return `service ${r.service}; ${head}; ${cluster}; ${can}${refused}`;
}

/** `recover status` of a Tungsten cluster in a terminal. */
export function renderTungstenStatusText(r: TungstenReport): string {
  const out = [
    `Topology ${r.topology} (${r.flavour}), probed ${r.probedAt} in ${r.durationMs} ms`,
    '',
    alignedTable(TUNGSTEN_STATUS_COLUMNS, r.nodes.map(tungstenStatusRow)),
    '',
    `Proposal: ${tungstenProposalLine(r)}`,
    ...r.nodes.map(
      (n) => `  ${n.role === 'primary' ? '*' : '-'} ${n.name}: ${r.proposal.verdicts[n.name] ?? dash}`,
    ),
  ];
  if (r.proposal.refusals.length > 0)
    out.push(
      '',
      'Refusals (tungsten-external-restore):',
      ...r.proposal.refusals.map((x) => `  ! ${x.node ? `${x.node}: ` : ''}${x.message} [${x.code}]`),
    );
  const others = r.warnings.filter(
    (w) => !r.proposal.refusals.some((x) => x.code === w.code && x.message === w.message),
  );
  if (others.length > 0) out.push('', 'Warnings:', ...others.map((w) => `  ! ${w.message}`));
  return out.join('\n') + '\n';
}
