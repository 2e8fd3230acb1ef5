import type { NodeReport } from '../flavours/coremedia/report';
import type { PlanBasis, PlanStep, SlaveFacts } from '../runbook/types';
import type { StepRecord } from './types';

/** Nodes this run has already changed: a later probe of them shows the run's work, not drift. */
export function touchedNodes(
  steps: readonly PlanStep[],
  records: ReadonlyMap<string, StepRecord>,
): Set<string> {
  return new Set(
    steps.filter((p) => p.risk !== 'read' && records.get(p.id)?.state === 'done').map((p) => p.node),
  );
}

function describe(f: SlaveFacts): string {
  if (!f.known) return 'unknown';
  return `sequence ${f.replicatorRemote}, ${f.replicatorIdRows} ReplicatorIdTable rows`;
}

/**
 * What changed since the plan was made, among the slaves this run has not touched: their own
 * facts (readable, sequence number, ReplicatorIdTable rows), which decide what the remaining steps
 * do. Slaves the run changed are left out, and so is the fleet-wide majority, which the run's own
 * work moves. One line per change, e.g. "rls-3: sequence 1042, 0 … → sequence 1030, 0 …".
 */
export function factsDrift(
  basis: PlanBasis,
  nodes: readonly NodeReport[],
  touched: ReadonlySet<string>,
): string[] {
  const now = new Map(
    nodes
      .filter((n) => n.role === 'slave')
      .map((n): [string, SlaveFacts] => [
        n.name,
        {
          name: n.name,
          known: n.reachable && n.error === null,
          replicatorRemote: n.replicatorRemote,
          replicatorIdRows: n.replicatorIdRows,
        },
      ]),
  );
  const changes: string[] = [];
  for (const before of basis.slaves) {
    if (touched.has(before.name)) continue;
    const after = now.get(before.name);
    const then = describe(before);
    const current = after ? describe(after) : 'gone from the topology';
    if (then !== current) changes.push(`${before.name}: ${then} → ${current}`);
  }
  return changes;
}
