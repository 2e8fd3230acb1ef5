import { auditEvent, type EngineDeps } from './deps';
import type { Fence } from './keys';
import type { RunRecord, RunState } from './types';

export type { Fence } from './keys';

/** End a run: final state with its audit event, then the lease released (only now), then the notification. */
export async function finishRun(
  deps: EngineDeps,
  run: RunRecord,
  fence: Fence,
  state: Extract<RunState, 'done' | 'failed' | 'aborted'>,
  reason: string | null,
): Promise<void> {
  // What is left for humans after a successful run (seed 000: publications to replay) is said at the end.
  const followUp =
    state === 'done' ? ((await deps.ledger.getPlan(run.id))?.basis.followUp ?? undefined) : undefined;
  const summary =
    state === 'done'
      ? `run finished: every step done${followUp ? `. ${followUp.replace(/\n/g, ' ')}` : ''}`
      : `run ${state}: ${reason ?? ''}`.trim();
  await deps.ledger.setRunState(run.id, state, fence, reason, {
    events: auditEvent(deps, {
      runId: run.id,
      kind: state === 'aborted' ? 'abort' : 'finish',
      actor: null,
      stepId: null,
      summary,
    }),
  });
  await deps.lease.release(run.topology, run.id, fence.token);
  await deps.notifier.notify({
    type: 'run-finished',
    run: { ...run, state, reason },
    ...(followUp ? { followUp } : {}),
  });
}
