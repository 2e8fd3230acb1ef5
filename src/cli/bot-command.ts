import type { Command } from 'commander';
import { heartbeatFile, logLevel, redisPrefix, serviceUrls, slackEnv, workerTimings } from '../config/env';
import { startSlackBot } from '../app/slack-bot';
import { parseSlackSettings } from '../slack/settings';
import { createLogger } from '../util/logger';
import type { CliContext } from './context';
import { EXIT_FAILURE, UsageError } from './exit-codes';
import { stat } from 'node:fs/promises';
import { configFrom, type ConfigOption } from './runtime';
import { runShell } from './shell-command';

export function registerBot(program: Command, ctx: CliContext): void {
  program
    .command('health')
    .description("exit 0 when the bot's heartbeat file is fresh (the container health check)")
    .option('--file <path>', 'heartbeat file (default: $RECOVER_HEARTBEAT_FILE)')
    .option('--max-age <seconds>', 'oldest heartbeat that counts as healthy', '60')
    .action(async function healthAction(opts: { file?: string; maxAge: string }) {
      const file = opts.file ?? heartbeatFile(ctx.env);
      if (!file) throw new UsageError('no heartbeat file: set RECOVER_HEARTBEAT_FILE or pass --file');
      const age = await stat(file).then(
        (s) => (Date.now() - s.mtimeMs) / 1000,
        () => null,
      );
      if (age !== null && age <= Number(opts.maxAge)) {
        ctx.stdout.write(`healthy: heartbeat ${age.toFixed(0)} s old\n`);
        return;
      }
      ctx.stderr.write(
        age === null
          ? `unhealthy: no heartbeat at ${file}\n`
          : `unhealthy: heartbeat ${age.toFixed(0)} s old\n`,
      );
      ctx.exitCode = EXIT_FAILURE;
    });

  program
    .command('bot')
    .description('run the Slack app (Socket Mode by default, HTTP with SLACK_MODE=http) with its workers')
    .option('-c, --config <file>', 'topology file (default: $RECOVER_CONFIG or ./recover.yaml)')
    .action(async function botAction(opts: ConfigOption) {
      await runBot(ctx, opts);
    });

  program
    .command('start')
    .description('npm start: the Slack app when SLACK_BOT_TOKEN is set, else the local chat shell')
    .option('-c, --config <file>', 'topology file (default: $RECOVER_CONFIG or ./recover.yaml)')
    .action(async function startAction(opts: ConfigOption) {
      if (slackEnv(ctx.env).SLACK_BOT_TOKEN) return runBot(ctx, opts);
      ctx.stderr.write(
        'No SLACK_BOT_TOKEN: starting the local chat shell (set the Slack tokens to run the Slack app).\n',
      );
      await runShell(ctx, opts);
    });
}

async function runBot(ctx: CliContext, opts: ConfigOption): Promise<void> {
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
    heartbeatFile: heartbeatFile(ctx.env),
  });
  const signal = await ctx.untilSignal();
  log.info({ signal }, 'stopping');
  await bot.stop();
}
