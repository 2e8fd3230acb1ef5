import type { Job } from 'bullmq';
import { z } from 'zod';
import { advanceRun } from '../src/engine/advance';
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

/** Thin: validate the job data, call the engine. Approvals from Slack are re-checked here, never trusted. */
export function createRunProcessor(deps: EngineDeps) {
  return async function processRunJob(job: Job): Promise<void> {
    switch (job.name) {
      case 'advance': {
        const data = AdvanceData.parse(job.data);
        await advanceRun(deps, data.runId);
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
