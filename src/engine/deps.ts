import type { Access, RecoverConfig, Topology } from '../config/topology';
import type { DbRegistry } from '../db/connect';
import type { Plan, Runbook } from '../runbook/types';
import type { StatusReport } from '../status/inspect';
import type { AuditLog } from './audit';
import type { ExecutorRegistry } from './executors';
import type { RunLedger } from './ledger';
import type { TopologyLease } from './lease';
import type { RunQueue } from './run-queue';
import type { AuditEvent, Notifier } from './types';

export interface EngineDeps {
  config: RecoverConfig;
  ledger: RunLedger;
  lease: TopologyLease;
  audit: AuditLog;
  queue: RunQueue;
  notifier: Notifier;
  dbs: DbRegistry;
  executors: ExecutorRegistry;
  /** Group id → members for the principals an access lists (the topology file's groups; Slack adds its user groups). */
  groups(access: Access): Promise<Record<string, string[]>>;
  /** Runbooks by name (the built-in registry in production). */
  runbook(name: string): Runbook | undefined;
  /** A fresh probe + proposal; injected so the engine never reaches past its deps. */
  inspect(topology: Topology): Promise<StatusReport>;
  clock(): Date;
  /** How often a worker on a run beats, and after how long without a beat it counts as dead. */
  liveness?: Liveness;
  /** What a dead attempt left on the databases: cancel its statements, say what a node holds. */
  leftovers?: Leftovers;
  /** How often a long step reports its progress (default PROGRESS_EVERY_MS). */
  progressEveryMs?: number;
  /** Checks a fresh plan can run here before anyone starts it (e.g. pg_dump new enough); throws EngineError. */
  checkPlan?(plan: Plan, topology: Topology): Promise<void>;
}

export interface Leftovers {
  /** Cancel sessions whose tag starts with `tagPrefix` (db/step-tag.ts) on the nodes; one line per node; never throws. */
  cancel(topology: Topology, nodes: string[], tagPrefix: string): Promise<string[]>;
  /** One line per node: what its database holds now. */
  describe(topology: Topology, nodes: string[]): Promise<string[]>;
}

export interface Liveness {
  heartbeatMs: number;
  staleAfterMs: number;
}

export const DEFAULT_LIVENESS: Liveness = { heartbeatMs: 5_000, staleAfterMs: 20_000 };

/** Derived from the job lock: a worker beats three times per lock period, and is dead after 3 missed beats (3 s at least). */
export function livenessFor(lockDurationMs: number | undefined): Liveness {
  if (!lockDurationMs) return DEFAULT_LIVENESS;
  const heartbeatMs = Math.max(100, Math.min(5_000, Math.round(lockDurationMs / 3)));
  return { heartbeatMs, staleAfterMs: Math.max(3_000, 3 * heartbeatMs) };
}

export class EngineError extends Error {
  constructor(
    readonly code:
      | 'unknown-topology'
      | 'unknown-runbook'
      | 'unknown-run'
      | 'not-allowed'
      | 'lease-held'
      | 'run-ended'
      | 'not-halted'
      | 'no-such-gate'
      | 'approval-refused'
      | 'approval-expired'
      | 'dump-tool-too-old',
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export function topologyOf(deps: Pick<EngineDeps, 'config'>, name: string): Topology {
  const topology = deps.config.topologies.find((t) => t.name === name);
  if (!topology) throw new EngineError('unknown-topology', `no topology named "${name}"`);
  return topology;
}

type EventInput = Omit<AuditEvent, 'at' | 'detail'> & { detail?: AuditEvent['detail'] };

/** An audit event stamped now, for a ledger write that records it atomically with its change. */
export function auditEvent(deps: Pick<EngineDeps, 'clock'>, event: EventInput): AuditEvent {
  return { ...event, detail: event.detail ?? {}, at: deps.clock().toISOString() };
}

/** An audit event that goes with no state change (a refusal, a note). */
export async function record(deps: EngineDeps, event: EventInput): Promise<void> {
  await deps.audit.append(auditEvent(deps, event));
}
