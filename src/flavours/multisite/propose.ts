import { epochOf } from './parse-lsepoch';
import { packetsFrom } from './parse-lspacket';
import type { LossWindow, MultisiteNodeStatus, MultisiteProposal, Refusal } from './report';

/** The facts the rules read per replica (a subset of the probe's report, so tables stay short). */
export type ProposeFacts = Pick<
  MultisiteNodeStatus,
  | 'name'
  | 'replica'
  | 'reachable'
  | 'matrix'
  | 'ownOps'
  | 'actualWarnings'
  | 'packets'
  | 'restoring'
  | 'awaiting'
  | 'databaseError'
  | 'manifest'
>;

export interface ProposeInput {
  replicas: ProposeFacts[];
  /** The replica asked about (--target); null: find the one with evidence. */
  target: string | null;
  /** R's own count from an earlier probe (monitor memory), to size the loss. */
  lastSeenOwnOps?: Record<string, number>;
}

const known = (n: ProposeFacts) => n.reachable && n.databaseError === null && n.matrix !== null;

/** Evidence that `n` needs (or is in) the restoration procedure; null: none. */
function evidenceOf(n: ProposeFacts): MultisiteProposal['evidence'] {
  if (n.restoring) return 'in-restoration';
  if (n.actualWarnings?.some((w) => w.kind === 'fewer-own' && w.replica === n.replica))
    return 'lsepoch-warning';
  if (n.reachable && n.databaseError !== null) return 'database-lost';
  return null;
}

/**
 * MultiSite restoration rules (SYSTEMS.md §1.3), pure. Start rule: restore only with evidence.
 * Immediacy rule: a restored replica whose own row moved past its backup was written to before
 * restorereplica, which the docs call irreparable: refuse. Step-3 gate: no packet from R waits
 * in any bay, and every host answered (an unknown sibling keeps the gate closed).
 */
export function proposeRestoration(input: ProposeInput): MultisiteProposal {
  const verdicts: Record<string, string> = {};
  const refusals: Refusal[] = [];
  const byName = new Map(input.replicas.map((n) => [n.name, n]));
  const withEvidence = input.replicas.filter((n) => evidenceOf(n) !== null);
  const chosen = input.target !== null ? byName.get(input.target) : withEvidence[0];
  const refuse = (replica: string, code: string, message: string) =>
    refusals.push({ replica, code, message });

  for (const n of input.replicas) {
    if (!n.reachable) verdicts[n.name] = 'unknown: host not reachable (not acknowledged, blocks step 3)';
    else if (n.databaseError !== null) verdicts[n.name] = `database unreadable: ${n.databaseError}`;
    else if (n.restoring)
      verdicts[n.name] = `in restoration, awaiting ${n.awaiting?.length ? n.awaiting.join(', ') : 'nothing'}`;
    else if (evidenceOf(n) === 'lsepoch-warning')
      verdicts[n.name] = 'restored from backup: lsepoch -actual says siblings hold more of its own ops';
    else verdicts[n.name] = known(n) ? 'healthy' : 'unknown: epoch matrix unreadable';
  }

  if (!chosen) {
    if (input.target !== null)
      refuse(input.target, 'not-a-replica', `${input.target} is not a replica of this family`);
    return {
      restore: null,
      evidence: null,
      siblings: [],
      verdicts,
      refusals,
      step3: { open: false, blocking: [] },
      lossWindow: null,
    };
  }
  const R = chosen;
  const siblings = input.replicas.filter((n) => n.name !== R.name);
  const evidence = evidenceOf(R);
  if (!R.reachable)
    refuse(R.name, 'replica-unknown', `${R.name}'s host cannot be reached: nothing can be restored there`);
  else if (evidence === null)
    refuse(
      R.name,
      'no-evidence',
      `${R.name} was not restored from backup: its database answers and lsepoch -actual shows no "fewer oplog entries" warning`,
    );
  if (evidence === 'lsepoch-warning' && R.manifest && R.ownOps !== null && R.ownOps > R.manifest.ownOps)
    refuse(
      R.name,
      'changed-since-restore',
      `${R.name} changed after its restore (own ops ${R.ownOps} > ${R.manifest.ownOps} in the backup): restorereplica now would reuse oplog ids its siblings hold (irreparable); restore it again`,
    );
  for (const s of siblings)
    if (evidenceOf(s) === 'in-restoration')
      refuse(s.name, 'sibling-restoring', `${s.name} is itself in restoration: finish that first`);

  const blocking = siblings.concat(R).flatMap((n) => {
    if (!n.reachable || n.packets === null) return [`${n.name}: unknown (bays not readable)`];
    const waiting = packetsFrom(n.packets, R.replica);
    return waiting.length > 0
      ? [`${n.name}: ${waiting.length} packet(s) from ${R.replica} not imported`]
      : [];
  });
  return {
    restore: refusals.some((r) => r.replica === R.name) ? null : R.name,
    evidence,
    siblings: siblings.map((s) => s.name),
    verdicts,
    refusals,
    step3: { open: blocking.length === 0, blocking },
    lossWindow: lossWindow(R, siblings, input.lastSeenOwnOps?.[R.name] ?? null),
  };
}

/** R's own ops: what the backup has, what each sibling holds (comes back), what is gone. */
function lossWindow(R: ProposeFacts, siblings: ProposeFacts[], lastSeen: number | null): LossWindow {
  const heldBySibling = Object.fromEntries(
    siblings.map((s) => [s.name, known(s) ? epochOf(s.matrix!, s.replica, R.replica) : null]),
  );
  const held = Object.values(heldBySibling).filter((v): v is number => v !== null);
  // An unknown sibling may hold more: the bound is only a bound when every sibling answered.
  const recoverableUpTo = held.length === siblings.length && held.length > 0 ? Math.max(...held) : null;
  return {
    backupOwnOps: R.manifest?.ownOps ?? null,
    heldBySibling,
    recoverableUpTo,
    lastSeenOwnOps: lastSeen,
    lostOps: lastSeen !== null && recoverableUpTo !== null ? Math.max(0, lastSeen - recoverableUpTo) : null,
  };
}
