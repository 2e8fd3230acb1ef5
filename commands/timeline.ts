import { errorMessage } from '../src/slack/blocks';
import type { SlashRequest } from '../src/slack/parse-command';
import { refusedChannel, topologyOfRun, type SlashContext } from './context';
import { enqueueFor, slashRequest } from './enqueue';

/** `/recover timeline RUN`: the incident timeline, posted in the channel for the write-up. */
export async function timelineCommand(
  ctx: SlashContext,
  req: Extract<SlashRequest, { kind: 'timeline' }>,
): Promise<void> {
  const topology = topologyOfRun(ctx.deps, req.runId);
  if (!topology)
    return ctx.ack(errorMessage(`"${req.runId}" belongs to no topology Recover knows`, 'see /recover runs'));
  if (await refusedChannel(ctx, topology)) return;
  await ctx.ack({ response_type: 'ephemeral', text: `Building the timeline of ${req.runId}…`, blocks: [] });
  await enqueueFor(
    ctx,
    'timeline',
    { runId: req.runId, channel: ctx.channel, user: ctx.user },
    slashRequest(ctx),
  );
}
