import { startSlackBot, type SlackBot } from '../../src/app/slack-bot';
import { serviceUrls } from '../../src/config/env';
import type { RecoverConfig } from '../../src/config/topology';
import { parseSlackSettings } from '../../src/slack/settings';
import { createLogger } from '../../src/util/logger';
import { closedPort } from './blackhole';

export interface HttpBot {
  bot: SlackBot;
  /** Where signed Slack requests (clicks) go. */
  appUrl: string;
}

/** The real bot in HTTP mode, talking to the Slack stand-in at `slackApiUrl`. */
export async function startHttpBot(o: {
  config: RecoverConfig;
  slackApiUrl: string;
  prefix: string;
  env: Record<string, string>;
  signingSecret: string;
  botToken: string;
  monitorConcurrency?: number;
  minPostIntervalMs?: number;
  heartbeatFile?: string;
}): Promise<HttpBot> {
  const port = await closedPort();
  const bot = await startSlackBot({
    config: o.config,
    settings: parseSlackSettings({
      SLACK_MODE: 'http',
      SLACK_BOT_TOKEN: o.botToken,
      SLACK_SIGNING_SECRET: o.signingSecret,
      PORT: String(port),
      SLACK_API_URL: o.slackApiUrl,
    }),
    redisUrl: serviceUrls().redisUrl,
    prefix: o.prefix,
    env: o.env,
    log: createLogger('silent'),
    minPostIntervalMs: o.minPostIntervalMs ?? 20,
    monitorConcurrency: o.monitorConcurrency,
    heartbeatFile: o.heartbeatFile,
  });
  return { bot, appUrl: `http://127.0.0.1:${port}/slack/events` };
}
