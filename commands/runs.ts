import type { SlashRequest } from '../src/slack/parse-command';
import type { SlashContext } from './context';
import { enqueueFor, slashRequest } from './enqueue';

/** `/recover runs [TOPOLOGY]`: recent runs, answered to the asker only. */
export async function runsCommand(
  ctx: SlashContext,
  req: Extract<SlashRequest, { kind: 'runs' }>,
): Promise<void> {
  await ctx.ack({ response_type: 'ephemeral', text: 'Looking up recent runs…', blocks: [] });
  await enqueueFor(
    ctx,
    'runs',
    { topology: req.topology, channel: ctx.channel, user: ctx.user },
    slashRequest(ctx),
  );
}
