import type { Finding, NodeStatus, StatusReport } from '../types';
import type { CctrlDatasource, CctrlLs } from './parse/cctrl-ls';
import type { CliAbilities } from './parse/dsctl';
import type { ThlInfo } from './parse/thl';
import type { TrepctlStatus } from './parse/trepctl';
import type { TrepRow } from './parse/trep';

export type TungstenRole = 'primary' | 'replica' | 'unknown';

/** One node as the probe read it; every unread value is null (unknown, never 0 or "ok"). */
export interface TungstenNodeStatus extends NodeStatus {
  role: TungstenRole;
  datasource: string;
  /** Its box in `cctrl ls`; null when the manager could not be asked or does not list it. */
  cluster: CctrlDatasource | null;
  replicator: TrepctlStatus | null;
  replicatorError: string | null;
  /** `thl info` (read on the primary). */
  thl: ThlInfo | null;
  /** trep_commit_seqno over SQL; null when unreadable. */
  trep: TrepRow[] | null;
  trepError: string | null;
  abilities: CliAbilities;
  /** The configured backup's binlog position (dump header / xtrabackup_binlog_info); null: none configured or unreadable. */
  backup: { path: string; from: 'primary' | 'replica'; position: string | null; error: string | null } | null;
  /** This node's own source id (topology). */
  sourceId: string;
}

export interface ClusterView {
  /** Whether `cctrl ls` answered: false = the manager is unreachable, the cluster view is unknown. */
  known: boolean;
  error: string | null;
  coordinator: CctrlLs['coordinator'];
}

export interface Refusal extends Finding {
  /** The node it is about; null: the whole cluster. */
  node: string | null;
}

export interface TungstenProposal {
  primary: string | null;
  /** One line per node. */
  verdicts: Record<string, string>;
  /** Why `tungsten-external-restore` cannot run (globally, or on a node); empty when it can. */
  refusals: Refusal[];
  /** Replicas a restore may target now. */
  restorable: string[];
}

export interface TungstenReport extends StatusReport {
  flavour: 'tungsten';
  service: string;
  cluster: ClusterView;
  nodes: TungstenNodeStatus[];
  proposal: TungstenProposal;
}
