import type { DbEngine } from '../../config/topology';
import type { FlavourName } from '../../config/topology';
import type { Proposal } from './proposal';
import type { ServiceProbe } from '../types';

export type NodeRole = 'master' | 'slave';

export interface ChangelogEntry {
  sequenceno: number;
  idtag: string;
}

/**
 * What one node said. `reachable: false` means we never got a session; `error` set with
 * `reachable: true` means the node answered but its state could not be read. Either way the
 * node is unknown: every value we could not read is null, never 0.
 */
export interface NodeReport {
  name: string;
  role: NodeRole;
  engine: DbEngine;
  reachable: boolean;
  error: string | null;
  /**
   * True when the node answered and has no replicator rows at all: the state of a slave just
   * restored from the master's backup (seed 001), which a runbook may be about to fix.
   */
  replicatorRowsMissing: boolean;
  replicatorRemote: number | null;
  replicatorLocal: number | null;
  replicatorTag: string | null;
  replicatorIdRows: number | null;
  /** Up to five rows of ReplicatorIdTable, for a human to look at. */
  replicatorIdSample: Record<string, unknown>[];
  serverType: string | null;
  lastChangelog: ChangelogEntry | null;
  latencyMs: number | null;
  /** The Live Server's service as its status command says (null: no host/service configured). */
  service?: ServiceProbe | null;
}

export interface FleetReport {
  topology: string;
  flavour: FlavourName;
  probedAt: string;
  nodes: NodeReport[];
}

/** `recover status` of a CoreMedia fleet: the probe and the dedicated-slave proposal, flat. */
export type CoremediaReport = FleetReport & Proposal & { durationMs: number };
