import { record, type EngineDeps } from './deps';
import type { Fence } from './keys';
import type { RunRecord, RunState } from './types';

export type { Fence } from './keys';

/** End a run: final state, lease released (only now), audit and notification. */
export async function finishRun(
  deps: EngineDeps,
  run: RunRecord,
  fence: Fence,
  state: Extract<RunState, 'done' | 'failed' | 'aborted'>,
  reason: string | null,
): Promise<void> {
  await deps.ledger.setRunState(run.id, state, fence, reason);
  await deps.lease.release(run.topology, run.id, fence.token);
  const summary = state === 'done' ? 'run finished: every step done' : `run ${state}: ${reason ?? ''}`.trim();
  await record(deps, {
    runId: run.id,
    kind: state === 'aborted' ? 'abort' : 'finish',
    actor: null,
    stepId: null,
    summary,
  });
  await deps.notifier.notify({ type: 'run-finished', run: { ...run, state, reason } });
}
