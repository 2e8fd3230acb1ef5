import type { SlashRequest } from '../src/slack/parse-command';
import { refusedChannel, topologyByName, type SlashContext } from './context';
import { enqueueFor, slashRequest } from './enqueue';

/** `/recover status [TOPOLOGY]`: ack, then a worker probes every node and posts the table. */
export async function statusCommand(
  ctx: SlashContext,
  req: Extract<SlashRequest, { kind: 'status' }>,
): Promise<void> {
  const topology = topologyByName(ctx.deps, req.topology)!;
  if (await refusedChannel(ctx, topology)) return;
  await ctx.ack({ response_type: 'ephemeral', text: `Inspecting ${topology.name}…`, blocks: [] });
  await enqueueFor(
    ctx,
    'status',
    { topology: topology.name, channel: ctx.channel, user: ctx.user },
    slashRequest(ctx),
  );
}
