import { DelayedError, type Job } from 'bullmq';
import { z } from 'zod';
import { advanceRun, haltOnEngineError, RunBusyError } from '../src/engine/advance';
import { approve } from '../src/engine/decisions';
import type { EngineDeps } from '../src/engine/deps';

const AdvanceData = z.object({
  runId: z.string().min(1),
  stage: z.number().int().nonnegative(),
  reason: z.string(),
});
const ApproveData = z.object({
  runId: z.string().min(1),
  gate: z.string().min(1),
  planHash: z.string().min(1),
  approver: z.string().min(1),
});

/** How long an advance job waits while another worker is moving the same run. */
const BUSY_RETRY_MS = 500;

/** Thin: validate the job data, call the engine. Approvals from Slack are re-checked here, never trusted. */
export function createRunProcessor(deps: EngineDeps) {
  return async function processRunJob(job: Job, token?: string): Promise<void> {
    switch (job.name) {
      case 'advance': {
        const data = AdvanceData.parse(job.data);
        try {
          await advanceRun(deps, data.runId);
        } catch (err) {
          // Waiting for a live worker is not a failure: try again shortly, without using an attempt.
          if (err instanceof RunBusyError && token) {
            await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
            throw new DelayedError();
          }
          // The last attempt failed too: halt for a human instead of leaving the run waiting on nothing.
          if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1))
            await haltOnEngineError(deps, data.runId, err);
          throw err;
        }
        return;
      }
      case 'approve': {
        const data = ApproveData.parse(job.data);
        await approve(deps, {
          runId: data.runId,
          gate: data.gate,
          planHash: data.planHash,
          approver: { id: data.approver },
        });
        return;
      }
      default:
        throw new Error(`unknown job "${job.name}"`);
    }
  };
}
