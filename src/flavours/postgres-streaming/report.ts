import type { Finding, NodeStatus, ServiceProbe, StatusReport } from '../types';

export type PostgresRole = 'primary' | 'standby' | 'unknown';

/** One row of pg_stat_wal_receiver; absent (null) means the standby is not streaming. */
export interface WalReceiver {
  status: string;
  receiveStartTli: number | null;
  receivedTli: number | null;
  flushedLsn: string | null;
  latestEndLsn: string | null;
  senderHost: string | null;
  senderPort: number | null;
  slotName: string | null;
}

/** One row of pg_stat_replication on a primary (application_name = the standby's cluster_name). */
export interface ReplicationPeer {
  applicationName: string;
  clientAddr: string | null;
  state: string | null;
  sentLsn: string | null;
  flushLsn: string | null;
  replayLsn: string | null;
  syncState: string | null;
  replayLagMs: number | null;
}

export interface ArchiverStatus {
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedAt: string | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedAt: string | null;
  /** The last attempt failed (failed after the last success): archiving is broken now. */
  failing: boolean;
}

/**
 * One node as the probe read it. Every value that could not be read is null — an unknown LSN is
 * never 0 and an unknown receiver is never "caught up".
 */
export interface PostgresNodeStatus extends NodeStatus {
  role: PostgresRole;
  service: ServiceProbe | null;
  inRecovery: boolean | null;
  timeline: number | null;
  /** Where the timeline came from: 'wal' (primary's current WAL file), 'receiver', 'control' (checkpoint/min recovery point: may lag). */
  timelineSource: 'wal' | 'receiver' | 'control' | null;
  /** Primary: pg_current_wal_lsn(). */
  currentLsn: string | null;
  receiveLsn: string | null;
  replayLsn: string | null;
  /** Primary: currentLsn; standby: greatest(receive, replay) (receive goes stale on an archive-only standby). */
  position: string | null;
  /** Standby: a pg_stat_wal_receiver row with status 'streaming'; false with no row. Primary: null. */
  streaming: boolean | null;
  receiver: WalReceiver | null;
  replayPaused: boolean | null;
  /** pg_last_xact_replay_timestamp(); null also means "no transaction replayed since start". */
  lastReplayAt: string | null;
  /** Standby: reachable primary's current LSN − position; null without a primary to compare with. */
  lagBytes: number | null;
  /** Standby: received but not replayed. */
  unreplayedBytes: number | null;
  /** The node whose host/port this standby's primary_conninfo names; null if none matches. */
  upstream: string | null;
  replication: ReplicationPeer[] | null;
  /** Primary: bytes of its databases (what a base backup copies); null on a standby or unknown. */
  databaseBytes: number | null;
  archiver: ArchiverStatus | null;
  /** `show` values of the settings failover depends on; password= in conninfo is redacted. */
  settings: Record<string, string | null>;
  dataCenter: string | null;
}

export interface Refusal extends Finding {
  /** Whether an approved allow-data-loss gate lifts it (a split brain or no node at all: never). */
  liftable: boolean;
}

export interface PrimaryLsnEvidence {
  lsn: string;
  timeline: number | null;
  /** probe: a primary answered; archive: end of the newest archived segment (a lower bound); memory: an earlier probe. */
  source: 'probe' | 'archive' | 'memory';
}

export interface PostgresProposal {
  candidate: string | null;
  /** One line per node. */
  verdicts: Record<string, string>;
  refusals: Refusal[];
  /** Last known primary LSN − candidate position; null when either is unknown. */
  lossBytesEstimate: number | null;
  primaryLsn: PrimaryLsnEvidence | null;
  /** The node the standbys followed (the old primary in a failover). */
  formerPrimary: string | null;
  /** Old primary confirmed down (true), still up (false), or cannot tell (null: fence or say "unfenced"). */
  fenced: boolean | null;
  /** The allow-data-loss gate: needed when any liftable refusal stands; shows the bytes at risk. */
  allowDataLoss: { required: boolean; approved: boolean; bytesAtRisk: number | null };
  /** Standbys past the candidate's position: promoting it would force a pg_rewind that drops their WAL. */
  aheadOfCandidate: { node: string; bytes: number }[];
}

export interface PostgresReport extends StatusReport {
  flavour: 'postgres-streaming';
  nodes: PostgresNodeStatus[];
  proposal: PostgresProposal;
}
