import type { PlanStep } from '../runbook/types';
import { emptyResult } from '../runbook/sql-executor';
import { auditEvent, type EngineDeps } from './deps';
import type { Fence } from './finish';
import type { RunRecord, StepRecord } from './types';

/**
 * Steps with a `when` (runbook/types.ts StepCondition) are decided here, just before their stage:
 * unmet ones are skipped with a line saying why, before any approval is asked for them. A
 * condition whose capture is missing cannot be decided: 'undecidable' (the run fails; never a guess).
 */
export async function skipUnmet(
  deps: EngineDeps,
  run: RunRecord,
  stage: readonly PlanStep[],
  records: ReadonlyMap<string, StepRecord>,
  fence: Fence,
): Promise<{ skipped: string[] } | { undecidable: string }> {
  const skipped: string[] = [];
  for (const p of stage) {
    if (!p.when || (records.get(p.id)?.state ?? 'pending') !== 'pending') continue;
    const { planStep, capture, equals } = p.when;
    const value = records.get(planStep)?.result?.captured[capture];
    if (value === undefined)
      return {
        undecidable: `${p.id}: runs only when ${planStep} captured ${capture}=${equals}, but it captured no ${capture}`,
      };
    if (value === equals) continue;
    const note = `skipped: ${capture} from ${planStep} is ${value} (runs only when ${equals})`;
    const moved = await deps.ledger.transitionStep(
      run.id,
      p.id,
      ['pending'],
      'skipped',
      { result: { ...emptyResult(), ok: true, note }, finishedAt: deps.clock().toISOString() },
      fence,
      auditEvent(deps, {
        runId: run.id,
        kind: 'step-result',
        actor: null,
        stepId: p.id,
        summary: `${p.id}: ${note}`,
      }),
    );
    if (!moved) continue;
    skipped.push(p.id);
    await deps.notifier.notify({
      type: 'step-result',
      run,
      stepId: p.id,
      result: { ...emptyResult(), ok: true, note },
    });
  }
  return { skipped };
}
