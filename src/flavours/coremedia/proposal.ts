export type WarningCode =
  | 'tie'
  | 'no-reachable-slave'
  | 'dedicated-inconsistent'
  | 'no-consistent-slave'
  | 'dedicated-below-highest'
  | 'slaves-unknown'
  | 'master-ahead'
  | 'master-unknown';

export interface PlannerWarning {
  code: WarningCode;
  message: string;
}

/** Sequence numbers whose publications may need replaying on the Content Server. */
export interface ReplayRange {
  from: number;
  to: number;
  /** Some node's state could not be read: it may have gone beyond `to`. */
  openEnded?: boolean;
}

export interface Proposal {
  /** The most common replicator_remote among reachable slaves; null when none could be read. */
  dedicatedSequence: number | null;
  /** Several numbers shared the top count: the highest was proposed and a human must confirm. */
  tie: boolean;
  tiedSequences: number[];
  /** The slave to restore from; null when no slave qualifies. */
  dedicatedSlave: string | null;
  /** True when the dedicated slave is not a consistent slave with the dedicated number. */
  fallback: boolean;
  /** Slaves with the dedicated number (they get the replicator rows set). */
  inSync: string[];
  /** Slaves with another number or an inconsistent state: restore from the dedicated backup. */
  toRestore: string[];
  /** Slaves whose state could not be read. */
  unknown: string[];
  /** One line per slave: chosen, or why not. */
  verdicts: Record<string, string>;
  warnings: PlannerWarning[];
  replayRange: ReplayRange | null;
}
