import { alignedTable } from '../../render/table';
import type { LossWindow, MultisiteNodeStatus, MultisiteReport } from './report';

const dash = '—';
const show = (v: unknown): string => (v === null || v === undefined ? dash : String(v));

export const MS_STATUS_COLUMNS = ['NODE', 'REPLICA', 'STATE', 'OWN OPS', 'LOCK', 'PACKETS', 'WARNING'];

/** One replica as a row; unknown values are "—", never 0. */
export function msStatusRow(n: MultisiteNodeStatus): string[] {
  const state = !n.reachable
    ? 'UNREACHABLE'
    : n.role === 'lost'
      ? 'DATABASE LOST'
      : n.role === 'restoring'
        ? 'RESTORING'
        : n.error
          ? 'ERROR'
          : 'ok';
  const fewer = n.actualWarnings?.some((w) => w.kind === 'fewer-own');
  return [
    n.name,
    n.replica,
    state,
    show(n.ownOps),
    n.locked === null ? dash : n.locked ? 'locked' : 'no',
    n.packets === null ? dash : String(n.packets.length),
    n.actualWarnings === null ? dash : fewer ? 'fewer own ops' : 'none',
  ];
}

/** The loss window in words: what comes back from the siblings and what is gone. */
export function lossText(R: string, w: LossWindow | null): string {
  if (!w) return 'loss window unknown';
  const held = Object.entries(w.heldBySibling)
    .map(([s, n]) => `${s} holds ${n === null ? 'unknown' : `up to ${n}`}`)
    .join(', ');
  const from = w.backupOwnOps === null ? '?' : String(w.backupOwnOps + 1);
  const back =
    w.recoverableUpTo === null
      ? `how many of ${R}'s own ops come back is unknown (a sibling did not answer)`
      : w.backupOwnOps !== null && w.recoverableUpTo <= w.backupOwnOps
        ? `nothing to recover beyond the backup (${w.backupOwnOps} own ops)`
        : `${R}'s own ops ${from}..${w.recoverableUpTo} come back from the siblings`;
  const lost =
    w.lostOps !== null
      ? `${w.lostOps} op(s) made after its last export are lost`
      : `ops made at ${R} after its last export (oplog id > ${show(w.recoverableUpTo)}) are lost; their number is unknown`;
  return `${back}; ${lost}${held ? ` (${held})` : ''}`;
}

/** The proposal in one line: which replica to restore and why, or why not. */
export function msProposalLine(r: MultisiteReport): string {
  const p = r.proposal;
  const refused =
    p.refusals.length > 0 ? `; REFUSED: ${p.refusals.map((x) => `${x.code} (${x.replica})`).join(', ')}` : '';
  if (!p.restore) return `no restoration proposed${refused}`;
  const gate = p.step3.open ? 'step 3 open' : `step 3 closed (${p.step3.blocking.length} blocking)`;
  return `restore ${p.restore} (evidence: ${p.evidence}); siblings ${p.siblings.join(', ')}; ${gate}; ${lossText(p.restore, p.lossWindow)}${refused}`;
}

/** `recover status` of a MultiSite family in a terminal. */
export function renderMsStatusText(r: MultisiteReport): string {
  const p = r.proposal;
  const out = [
    `Topology ${r.topology} (${r.flavour}), probed ${r.probedAt} in ${r.durationMs} ms`,
    '',
    alignedTable(MS_STATUS_COLUMNS, r.nodes.map(msStatusRow)),
    '',
    `Proposal: ${msProposalLine(r)}`,
    ...r.nodes.map((n) => `  ${n.name === p.restore ? '*' : '-'} ${n.name}: ${p.verdicts[n.name] ?? dash}`),
  ];
  if (p.step3.blocking.length > 0)
    out.push('', 'Step 3 gate closed by:', ...p.step3.blocking.map((b) => `  ✗ ${b}`));
  const errors = r.nodes.filter((n) => n.error || n.databaseError);
  if (errors.length > 0)
    out.push(
      '',
      'Unknown or unreadable:',
      ...errors.map((n) => `  ✗ ${n.name}: ${n.error ?? n.databaseError}`),
    );
  if (p.refusals.length > 0)
    out.push('', 'Refusals (no override):', ...p.refusals.map((x) => `  ! ${x.message} [${x.code}]`));
  if (r.warnings.length > 0) out.push('', 'Warnings:', ...r.warnings.map((w) => `  ! ${w.message}`));
  return out.join('\n') + '\n';
}
