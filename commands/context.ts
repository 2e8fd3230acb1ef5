import type { RecoverConfig, Topology } from '../src/config/topology';
import { errorMessage } from '../src/slack/blocks';
import type { SlackMessage } from '../src/slack/blocks/types';
import type { SlackJobs } from '../src/slack/jobs';

export interface CommandDeps {
  config: RecoverConfig;
  jobs: SlackJobs;
  runbookNames: readonly string[];
  now: () => number;
}

/** What a subcommand needs from the slash command that carried it. */
export interface SlashContext {
  deps: CommandDeps;
  user: string;
  channel: string;
  team: string;
  text: string;
  /** Slack's id for this invocation (a retry carries the same); none in the chat shell. */
  triggerId?: string;
  ack(message?: SlackMessage & { response_type?: 'ephemeral' | 'in_channel' }): Promise<void>;
  respond(message: SlackMessage & { response_type: 'ephemeral' }): Promise<unknown>;
}

/** Channels are checked before anything is enqueued: an incident channel sees only its own fleets. */
export function channelAllowed(topology: Topology, channel: string): boolean {
  return !topology.access.channels || topology.access.channels.includes(channel);
}

/** Ack with an explanation when this channel may not act on the topology; true when refused. */
export async function refusedChannel(
  ctx: Pick<SlashContext, 'ack' | 'channel'>,
  topology: Topology,
): Promise<boolean> {
  if (channelAllowed(topology, ctx.channel)) return false;
  await ctx.ack(
    errorMessage(
      `Recover does not answer for ${topology.name} in this channel`,
      'ask in the incident channel configured for it',
    ),
  );
  return true;
}

export function topologyByName(deps: CommandDeps, name: string): Topology | undefined {
  return deps.config.topologies.find((t) => t.name === name);
}

/** Run ids start with their topology's name. */
export function topologyOfRun(deps: CommandDeps, runId: string): Topology | undefined {
  return deps.config.topologies
    .filter((t) => runId.startsWith(`${t.name}-`))
    .sort((a, b) => b.name.length - a.name.length)[0];
}
