import type { AckFn, RespondArguments, RespondFn, SlashCommand } from '@slack/bolt';
import { errorMessage } from '../src/slack/blocks';
import { parseSlashText } from '../src/slack/parse-command';
import { abortCommand } from './abort';
import type { CommandDeps, SlashContext } from './context';
import { helpCommand } from './help';
import { planCommand } from './plan';
import { runCommand } from './run';
import { runsCommand } from './runs';
import { statusCommand } from './status';
import { timelineCommand } from './timeline';

interface SlashArgs {
  command: SlashCommand;
  ack: AckFn<string | RespondArguments>;
  respond: RespondFn;
}

/** The `/recover` listener: parse, then hand to the subcommand, which acks first and enqueues. */
export function recoverCommand(deps: CommandDeps) {
  return async function onRecoverCommand({ command, ack, respond }: SlashArgs): Promise<void> {
    const ctx: SlashContext = {
      deps,
      user: command.user_id,
      channel: command.channel_id,
      team: command.team_id,
      text: command.text ?? '',
      triggerId: command.trigger_id,
      ack: (message) => ack(message ? { response_type: 'ephemeral', ...message } : undefined),
      respond: (message) => respond(message),
    };
    await dispatchSlash(ctx);
  };
}

/** Parse the text and hand it to its subcommand: Slack and the chat shell come in here alike. */
export async function dispatchSlash(ctx: SlashContext): Promise<void> {
  const parsed = parseSlashText(ctx.text, ctx.deps.config, ctx.deps.runbookNames);
  if (!parsed.ok) return ctx.ack(errorMessage(parsed.problem, parsed.hint));
  const req = parsed.request;
  switch (req.kind) {
    case 'help':
      return helpCommand(ctx);
    case 'status':
      return statusCommand(ctx, req);
    case 'plan':
      return planCommand(ctx, req);
    case 'run':
      return runCommand(ctx, req);
    case 'abort':
      return abortCommand(ctx, req);
    case 'runs':
      return runsCommand(ctx, req);
    case 'timeline':
      return timelineCommand(ctx, req);
  }
}
