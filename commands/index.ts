import type { App } from '@slack/bolt';
import { SLASH_COMMAND } from '../src/slack/constants';
import { buttonListeners } from './buttons';
import type { CommandDeps } from './context';
import { recoverCommand } from './recover';

/** Every Slack listener Recover has. They ack first and enqueue; none touches a database or SSH. */
export function registerCommands(app: App, deps: CommandDeps): void {
  app.command(SLASH_COMMAND, recoverCommand(deps));
  for (const [actionId, listener] of Object.entries(buttonListeners(deps)))
    app.action(actionId, listener as never);
}

export type { CommandDeps } from './context';
