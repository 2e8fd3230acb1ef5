import type { Job } from 'bullmq';
import { slackHandlers, type SlackHandlerDeps } from '../src/slack/handlers';
import { SlackJobData } from '../src/slack/jobs';

/**
 * Thin: validate the job data, call the handler. Every click is re-checked by the engine here.
 * `handled` runs after each job that counted in its channel's backlog (it had a priority).
 */
export function createSlackProcessor(
  deps: SlackHandlerDeps,
  handled?: (channel: string) => Promise<unknown>,
) {
  return async function processSlackJob(job: Job): Promise<void> {
    try {
      return await handleSlackJob(deps, job.name, job.data);
    } finally {
      const channel = (job.data as { channel?: unknown }).channel;
      if (job.opts.priority && typeof channel === 'string') await handled?.(channel).catch(() => undefined);
    }
  };
}

/** One chat request, whether a BullMQ job (Slack) or handed over in-process (the chat shell). */
export async function handleSlackJob(deps: SlackHandlerDeps, name: string, data: unknown): Promise<void> {
  switch (name) {
    case 'status':
      return slackHandlers.status(deps, SlackJobData.status.parse(data));
    case 'plan':
      return slackHandlers.plan(deps, SlackJobData.plan.parse(data));
    case 'start':
      return slackHandlers.start(deps, SlackJobData.start.parse(data));
    case 'approve':
      return slackHandlers.approve(deps, SlackJobData.approve.parse(data));
    case 'reject':
      return slackHandlers.reject(deps, SlackJobData.reject.parse(data));
    case 'abort':
      return slackHandlers.abort(deps, SlackJobData.abort.parse(data));
    case 'decide':
      return slackHandlers.decide(deps, SlackJobData.decide.parse(data));
    case 'runs':
      return slackHandlers.runs(deps, SlackJobData.runs.parse(data));
    case 'timeline':
      return slackHandlers.timeline(deps, SlackJobData.timeline.parse(data));
    case 'acknowledge':
      return slackHandlers.acknowledge(deps, SlackJobData.acknowledge.parse(data));
    default:
      throw new Error(`unknown Slack job "${name}"`);
  }
}
