import { newRunId } from '../src/engine/start';
import type { SlashRequest } from '../src/slack/parse-command';
import { refusedChannel, topologyByName, type SlashContext } from './context';
import { enqueueFor, slashRequest } from './enqueue';

/** `/recover run TOPOLOGY RUNBOOK [TARGET]`: start a run; destructive steps wait for a second person. */
export async function runCommand(
  ctx: SlashContext,
  req: Extract<SlashRequest, { kind: 'run' }>,
): Promise<void> {
  const topology = topologyByName(ctx.deps, req.topology)!;
  if (await refusedChannel(ctx, topology)) return;
  await ctx.ack({
    response_type: 'ephemeral',
    text: `Starting ${req.runbook} on ${topology.name}…`,
    blocks: [],
  });
  const runId = newRunId(topology.name, new Date(ctx.deps.now()));
  const data = {
    topology: req.topology,
    runbook: req.runbook,
    target: req.target,
    channel: ctx.channel,
    user: ctx.user,
    runId,
  };
  await enqueueFor(ctx, 'start', data, slashRequest(ctx));
}
