import type { Job } from 'bullmq';
import { z } from 'zod';
import { pollTopology, type MonitorDeps, type PollOutcome } from '../src/monitor/poll';

export const PollData = z.object({ topology: z.string().min(1) });
export type PollData = z.infer<typeof PollData>;

/** Thin: validate the job data, poll the topology. One job per topology per interval (its Job Scheduler). */
export function createMonitorProcessor(deps: MonitorDeps) {
  return async function processMonitorJob(job: Job): Promise<PollOutcome> {
    switch (job.name) {
      case 'poll':
        return pollTopology(deps, PollData.parse(job.data).topology);
      default:
        throw new Error(`unknown monitor job "${job.name}"`);
    }
  };
}
