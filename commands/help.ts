import { helpMessage } from '../src/slack/blocks';
import type { SlashContext } from './context';

/** `/recover help`: answered in the ack itself; nothing to enqueue. */
export async function helpCommand(ctx: SlashContext): Promise<void> {
  await ctx.ack({
    response_type: 'ephemeral',
    ...helpMessage(
      ctx.deps.config.topologies.map((t) => t.name),
      [...ctx.deps.runbookNames],
    ),
  });
}
