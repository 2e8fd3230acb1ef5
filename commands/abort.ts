import { errorMessage } from '../src/slack/blocks';
import type { SlashRequest } from '../src/slack/parse-command';
import { refusedChannel, topologyOfRun, type SlashContext } from './context';
import { enqueueFor, slashRequest } from './enqueue';

/** `/recover abort RUN`: the requester or an approver may abort; a running step finishes and is recorded. */
export async function abortCommand(
  ctx: SlashContext,
  req: Extract<SlashRequest, { kind: 'abort' }>,
): Promise<void> {
  const topology = topologyOfRun(ctx.deps, req.runId);
  if (!topology)
    return ctx.ack(errorMessage(`"${req.runId}" belongs to no topology Recover knows`, 'see /recover runs'));
  if (await refusedChannel(ctx, topology)) return;
  await ctx.ack({ response_type: 'ephemeral', text: `Aborting ${req.runId}…`, blocks: [] });
  await enqueueFor(
    ctx,
    'abort',
    { runId: req.runId, channel: ctx.channel, user: ctx.user },
    slashRequest(ctx),
  );
}
