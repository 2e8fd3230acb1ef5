import { errorMessage } from '../src/slack/blocks';
import type { SlackJob, SlackJobName, SlackRequestId } from '../src/slack/jobs';
import { EnqueueTimeoutError } from '../src/slack/jobs';
import type { SlashContext } from './context';

/** A retry of one slash command (same trigger id) counts as the same request for this long. */
const SLASH_RETRY_MS = 10 * 60_000;
/** Without a trigger id (the chat shell), the same text from the same person within this long is one request. */
const SLASH_REPEAT_MS = 10_000;

/** What identifies a slash command: Slack's trigger id when it sent one, else who typed what, where. */
export function slashRequest(
  ctx: Pick<SlashContext, 'team' | 'user' | 'channel' | 'text' | 'triggerId'>,
): SlackRequestId {
  return ctx.triggerId
    ? { parts: [ctx.team, ctx.triggerId], ttlMs: SLASH_RETRY_MS }
    : { parts: [ctx.team, ctx.user, ctx.channel, ctx.text], ttlMs: SLASH_REPEAT_MS };
}

/**
 * After the ack: enqueue once per request (set-if-absent on the request's identity, with a
 * lifetime: a retry or double submit makes one job). When Redis is down the user is told at once,
 * ephemerally, instead of waiting for nothing.
 */
export async function enqueueFor<N extends SlackJobName>(
  ctx: Pick<SlashContext, 'deps' | 'respond'>,
  name: N,
  data: SlackJob<N>,
  request: SlackRequestId,
): Promise<void> {
  try {
    await ctx.deps.jobs.enqueue(name, data, request);
  } catch (err) {
    // A timeout is ambiguous (the job may still land); a refused connection is not.
    const hint =
      err instanceof EnqueueTimeoutError
        ? `${err.message}: it may still run. Check /recover runs before asking again.`
        : `${(err as Error).message}. Nothing was queued; try again in a moment, or use the terminal (recover status …).`;
    await ctx.respond({
      response_type: 'ephemeral',
      ...errorMessage('Recover could not queue that request', hint),
    });
  }
}
