import type { Job } from 'bullmq';
import { slackHandlers, type SlackHandlerDeps } from '../src/slack/handlers';
import { SlackJobData } from '../src/slack/jobs';

/** Thin: validate the job data, call the handler. Every click is re-checked by the engine here. */
export function createSlackProcessor(deps: SlackHandlerDeps) {
  return async function processSlackJob(job: Job): Promise<void> {
    switch (job.name) {
      case 'status':
        return slackHandlers.status(deps, SlackJobData.status.parse(job.data));
      case 'plan':
        return slackHandlers.plan(deps, SlackJobData.plan.parse(job.data));
      case 'start':
        return slackHandlers.start(deps, SlackJobData.start.parse(job.data));
      case 'approve':
        return slackHandlers.approve(deps, SlackJobData.approve.parse(job.data));
      case 'reject':
        return slackHandlers.reject(deps, SlackJobData.reject.parse(job.data));
      case 'abort':
        return slackHandlers.abort(deps, SlackJobData.abort.parse(job.data));
      case 'decide':
        return slackHandlers.decide(deps, SlackJobData.decide.parse(job.data));
      case 'runs':
        return slackHandlers.runs(deps, SlackJobData.runs.parse(job.data));
      case 'timeline':
        return slackHandlers.timeline(deps, SlackJobData.timeline.parse(job.data));
      case 'acknowledge':
        return slackHandlers.acknowledge(deps, SlackJobData.acknowledge.parse(job.data));
      default:
        throw new Error(`unknown Slack job "${job.name}"`);
    }
  };
}
