import type { SlashRequest } from '../src/slack/parse-command';
import { refusedChannel, topologyByName, type SlashContext } from './context';
import { enqueueFor, slashRequest } from './enqueue';

/** `/recover plan TOPOLOGY RUNBOOK [TARGET]`: the concrete plan, posted with a Start button. */
export async function planCommand(
  ctx: SlashContext,
  req: Extract<SlashRequest, { kind: 'plan' }>,
): Promise<void> {
  const topology = topologyByName(ctx.deps, req.topology)!;
  if (await refusedChannel(ctx, topology)) return;
  await ctx.ack({
    response_type: 'ephemeral',
    text: `Planning ${req.runbook} on ${topology.name}…`,
    blocks: [],
  });
  const data = {
    topology: req.topology,
    runbook: req.runbook,
    target: req.target,
    channel: ctx.channel,
    user: ctx.user,
  };
  await enqueueFor(ctx, 'plan', data, slashRequest(ctx));
}
