import type { Command } from 'commander';
import { logLevel, redisPrefix, serviceUrls, slackEnv, workerTimings } from '../config/env';
import { startSlackBot } from '../app/slack-bot';
import { parseSlackSettings } from '../slack/settings';
import { createLogger } from '../util/logger';
import type { CliContext } from './context';
import { configFrom, type ConfigOption } from './runtime';

export function registerBot(program: Command, ctx: CliContext): void {
  program
    .command('bot')
    .description('run the Slack app (Socket Mode by default, HTTP with SLACK_MODE=http) with its workers')
    .option('-c, --config <file>', 'topology file (default: $RECOVER_CONFIG or ./recover.yaml)')
    .action(async function botAction(opts: ConfigOption) {
      // Settings first: a missing token is one clear line each, before anything connects.
      const settings = parseSlackSettings(slackEnv(ctx.env));
      const config = configFrom(opts, ctx);
      const log = createLogger(logLevel(ctx.env), ctx.stderr);
      const bot = await startSlackBot({
        config,
        settings,
        redisUrl: serviceUrls(ctx.env).redisUrl,
        prefix: redisPrefix(ctx.env),
        env: ctx.env,
        log,
        workerTimings: workerTimings(ctx.env),
      });
      const signal = await ctx.untilSignal();
      log.info({ signal }, 'stopping');
      await bot.stop();
    });
}
