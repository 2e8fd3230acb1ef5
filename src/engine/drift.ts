import type { PlanStep } from '../runbook/types';
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
