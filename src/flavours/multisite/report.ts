import type { Finding, NodeStatus, StatusReport } from '../types';
import type { EpochMatrix, LsepochWarning } from './parse-lsepoch';
import type { Packet } from './parse-lspacket';

/** replica: answers normally; restoring: locked by restorereplica; lost: host answers, database does not. */
export type MultisiteRole = 'replica' | 'restoring' | 'lost' | 'unknown';

export interface BackupManifest {
  /** The replica's own oplog count at backup time: its own row after the restore. */
  ownOps: number;
  takenAt: string | null;
}

/** One replica host as the probe read it; null = could not be read (never "nothing there"). */
export interface MultisiteNodeStatus extends NodeStatus {
  role: MultisiteRole;
  replica: string;
  /** This replica's epoch matrix (its own row is actual). */
  matrix: EpochMatrix | null;
  /** E[self][self]: how many of its own operations it has. */
  ownOps: number | null;
  /** `lsepoch -actual` warnings (the first kind is the evidence a restoration is needed). */
  actualWarnings: LsepochWarning[] | null;
  /** Packets in its bays. */
  packets: Packet[] | null;
  /** Family members as its lsreplica -long lists them. */
  family: string[] | null;
  locked: boolean | null;
  restoring: boolean | null;
  /** While restoring: siblings whose restoration update it still needs. */
  awaiting: string[] | null;
  /** Why the database could not be read while the host answered (storage lost, never restored). */
  databaseError: string | null;
  manifest: BackupManifest | null;
}

export interface Refusal extends Finding {
  replica: string;
}

/** What the restoration of one replica rests on, and what it will and will not bring back. */
export interface LossWindow {
  /** Own ops in the backup (the restored own row). */
  backupOwnOps: number | null;
  /** Per sibling: how many of R's own operations it holds (its actual row's entry for R). */
  heldBySibling: Record<string, number | null>;
  /** The most any sibling holds: R's ops up to here come back (its last export before the failure). */
  recoverableUpTo: number | null;
  /** R's own count seen before the failure (an earlier probe), when known. */
  lastSeenOwnOps: number | null;
  /** Ops made at R after its last export: unrecoverable; null when R's count at failure is unknown. */
  lostOps: number | null;
}

export interface MultisiteProposal {
  /** The replica to restore, or null. */
  restore: string | null;
  /** Why restoration is proposed: the lsepoch -actual warning, a database that is gone, or a restoration under way. */
  evidence: 'lsepoch-warning' | 'database-lost' | 'in-restoration' | null;
  siblings: string[];
  /** One line per replica. */
  verdicts: Record<string, string>;
  refusals: Refusal[];
  /** Step 3: no packet from R waits anywhere; an unreadable host keeps it closed. */
  step3: { open: boolean; blocking: string[] };
  lossWindow: LossWindow | null;
}

export interface MultisiteReport extends StatusReport {
  flavour: 'multisite';
  nodes: MultisiteNodeStatus[];
  proposal: MultisiteProposal;
}
