import { errorMessage } from '../src/slack/blocks';
import type { SlackJob, SlackJobName } from '../src/slack/jobs';
import { EnqueueTimeoutError, slackJobId } from '../src/slack/jobs';
import type { SlashContext } from './context';

/**
 * After the ack: enqueue with a deterministic id (a retry or double submit makes one job). When
 * Redis is down the user is told at once, ephemerally, instead of waiting for nothing.
 */
export async function enqueueFor<N extends SlackJobName>(
  ctx: Pick<SlashContext, 'deps' | 'respond'>,
  name: N,
  data: SlackJob<N>,
  idParts: readonly string[],
): Promise<void> {
  try {
    await ctx.deps.jobs.enqueue(name, data, slackJobId(name, idParts, ctx.deps.now()));
  } catch (err) {
    // A timeout is ambiguous (the job may still land); a refused connection is not.
    const hint =
      err instanceof EnqueueTimeoutError
        ? `${err.message}: it may still run. Check /recover runs before asking again (the same request within 30 s is not repeated).`
        : `${(err as Error).message}. Nothing was queued; try again in a moment, or use the terminal (recover status …).`;
    await ctx.respond({
      response_type: 'ephemeral',
      ...errorMessage('Recover could not queue that request', hint),
    });
  }
}
