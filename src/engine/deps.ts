import type { Access, RecoverConfig, Topology } from '../config/topology';
import type { DbRegistry } from '../db/connect';
import type { Runbook } from '../runbook/types';
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
      | 'approval-refused',
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

export async function record(
  deps: EngineDeps,
  event: Omit<AuditEvent, 'at' | 'detail'> & { detail?: AuditEvent['detail'] },
): Promise<void> {
  await deps.audit.append({ ...event, detail: event.detail ?? {}, at: deps.clock().toISOString() });
}
