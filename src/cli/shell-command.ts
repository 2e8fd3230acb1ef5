import type { Command } from 'commander';
import { runChatShell } from '../app/chat-shell';
import { redisPrefix, serviceUrls, shellUser, workerTimings } from '../config/env';
import type { CliContext } from './context';
import { configFrom, type ConfigOption } from './runtime';

export function registerShell(program: Command, ctx: CliContext): void {
  program
    .command('shell')
    .description(
      'the local chat shell: the Slack commands and buttons in a terminal (also when Slack is down)',
    )
    .option('-c, --config <file>', 'topology file (default: $RECOVER_CONFIG or ./recover.yaml)')
    .option('--as <user>', 'who you are to begin with (default: $RECOVER_USER or $USER); /as NAME switches')
    .option('--no-worker', 'do not run steps here (a `recover worker` or the bot shares the Redis)')
    .option('--compact', '80 columns, one line per step, details on request (default at a terminal)')
    .option('--full', 'every line of every message (default for a script on stdin)')
    .action(async function shellAction(opts: ShellOptions) {
      await runShell(ctx, opts);
    });
}

type ShellOptions = ConfigOption & { as?: string; worker?: boolean; compact?: boolean; full?: boolean };

export async function runShell(ctx: CliContext, opts: ShellOptions): Promise<void> {
  const abort = new AbortController();
  void ctx.untilSignal().then(() => abort.abort());
  await runChatShell({
    config: configFrom(opts, ctx),
    redisUrl: serviceUrls(ctx.env).redisUrl,
    prefix: redisPrefix(ctx.env),
    env: ctx.env,
    user: opts.as ?? shellUser(ctx.env),
    input: ctx.stdin,
    output: ctx.stdout,
    interactive: ctx.stdin.isTTY === true,
    compact: viewOption(opts),
    worker: opts.worker !== false,
    workerTimings: workerTimings(ctx.env),
    signal: abort.signal,
  });
}

/** --compact or --full when given; else the shell decides (compact at a terminal). */
export function viewOption(opts: { compact?: boolean; full?: boolean }): boolean | undefined {
  if (opts.full) return false;
  return opts.compact ? true : undefined;
}
