import type { Command } from 'commander';
import { startMonitorRuntime } from '../app/monitor-runtime';
import { redisPrefix, serviceUrls, slackEnv } from '../config/env';
import { silentNotifier } from '../engine/terminal-notifier';
import { terminalAlertSink } from '../monitor/terminal-sink';
import { slackAlertSink } from '../slack/alert-sink';
import { createSlackWebClient, SlackOutbox } from '../slack/outbox';
import type { CliContext } from './context';
import { EXIT_OK } from './exit-codes';
import { configFrom, withRuntime, type ConfigOption } from './runtime';

export function registerMonitor(program: Command, ctx: CliContext): void {
  program
    .command('monitor')
    .description(
      'run only the monitor worker: alerts go to Slack when SLACK_BOT_TOKEN is set, else to this terminal',
    )
    .option('-c, --config <file>', 'topology file (default: $RECOVER_CONFIG or ./recover.yaml)')
    .option('--concurrency <n>', 'polls of different topologies at once', '8')
    .action(async function monitorAction(opts: ConfigOption & { concurrency: string }) {
      const config = configFrom(opts, ctx);
      const slack = slackEnv(ctx.env);
      await withRuntime(ctx, config, silentNotifier, async (rt) => {
        const outbox = slack.SLACK_BOT_TOKEN
          ? new SlackOutbox(createSlackWebClient(slack.SLACK_BOT_TOKEN, slack.SLACK_API_URL))
          : undefined;
        const monitor = await startMonitorRuntime({
          config,
          redisUrl: serviceUrls(ctx.env).redisUrl,
          prefix: redisPrefix(ctx.env),
          redis: rt.redis,
          engine: rt.deps,
          sink: outbox ? slackAlertSink(outbox) : terminalAlertSink(ctx.stdout, rt.deps.clock),
          env: ctx.env,
          concurrency: Number(opts.concurrency) || 8,
          onError: (err) => ctx.stderr.write(`monitor: ${err.message}\n`),
        });
        try {
          for (const w of monitor.warnings) ctx.stderr.write(`warning: ${w}\n`);
          await monitor.worker.waitUntilReady();
          const watched = monitor.schedules.upserted.map((id) => id.replace(/^monitor-/, ''));
          ctx.stdout.write(
            `monitor ready: ${watched.length === 0 ? 'no topology to watch' : watched.join(', ')} (alerts to ${outbox ? 'Slack' : 'this terminal'})\n`,
          );
          await ctx.untilSignal();
          ctx.stdout.write('monitor stopping…\n');
        } finally {
          await monitor.close();
          await outbox?.drain();
          outbox?.close();
        }
      });
      ctx.exitCode = EXIT_OK;
    });
}
