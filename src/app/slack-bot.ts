import { writeFile } from 'node:fs/promises';
import { App, LogLevel } from '@slack/bolt';
import { Worker } from 'bullmq';
import { registerCommands } from '../../commands';
import { createSlackProcessor } from '../../jobs/slack-processor';
import type { RecoverConfig } from '../config/topology';
import { redisOptionsFromUrl } from '../engine/redis-options';
import { closeWorker } from '../engine/worker';
import type { EngineEvent } from '../engine/types';
import { runbookNames, runbookNamesFor } from '../runbook/registry';
import { SlackGroupDirectory } from '../slack/group-directory';
import { createSlackJobs, releaseBacklog, SLACK_QUEUE } from '../slack/jobs';
import { SlackNotifier } from '../slack/notifier';
import { createSlackWebClient, SlackOutbox } from '../slack/outbox';
import { RunThreads } from '../slack/run-threads';
import type { SlackSettings } from '../slack/settings';
import type { Logger } from '../util/logger';
import { slackAlertSink } from '../slack/alert-sink';
import { createEngineRuntime, type EngineRuntime } from './engine-runtime';
import { startMonitorRuntime, type MonitorRuntime } from './monitor-runtime';

export interface SlackBotOptions {
  config: RecoverConfig;
  settings: SlackSettings;
  redisUrl: string;
  prefix: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Pace of posts per channel; Slack allows about one a second. */
  minPostIntervalMs?: number;
  /** Touched every 10 s while Slack and Redis answer: what `recover health` reads. */
  heartbeatFile?: string;
  /** Worker lock timings (short in tests). */
  workerTimings?: { lockDurationMs?: number; stalledIntervalMs?: number };
  /** Monitor polls of different topologies at once in this instance. */
  monitorConcurrency?: number;
}

export interface SlackBot {
  app: App;
  runtime: EngineRuntime;
  notifier: SlackNotifier;
  monitor: MonitorRuntime;
  stop(): Promise<void>;
}

/** The bot's composition root: Slack in, BullMQ between, the engine and Slack out. Nothing connects before start. */
export async function startSlackBot(o: SlackBotOptions): Promise<SlackBot> {
  const slackApiUrl = o.settings.SLACK_API_URL;
  // Our own retries (the outbox honours Retry-After); the client's default retries for ~30 minutes.
  const client = createSlackWebClient(o.settings.SLACK_BOT_TOKEN, slackApiUrl);
  const outbox = new SlackOutbox(client, { minIntervalMs: o.minPostIntervalMs ?? 1100 });
  const directory = new SlackGroupDirectory(client);
  const onError = (err: Error) => o.log.warn({ err: err.message }, 'background error');

  // The notifier needs the runtime's ledger, the runtime needs a notifier: forward until both exist.
  const forward: { to?: SlackNotifier } = {};
  const runtime = await createEngineRuntime({
    config: o.config,
    redisUrl: o.redisUrl,
    prefix: o.prefix,
    env: o.env,
    notifier: { notify: (e: EngineEvent) => forward.to!.notify(e) },
    groups: (access) => directory.groupsFor(access, o.config.groups),
    onError,
  });
  for (const w of runtime.warnings) o.log.warn(w);
  const threads = new RunThreads(runtime.redis, o.prefix);
  const notifier = new SlackNotifier({
    outbox,
    threads,
    ledger: runtime.deps.ledger,
    clock: runtime.deps.clock,
    onError,
  });
  forward.to = notifier;

  runtime.startWorker({ ...o.workerTimings, onError });
  // Connected before any incident: a failover's first probe would otherwise wait for SSH handshakes.
  void runtime.warmHosts().then((failed) => {
    for (const f of failed) o.log.warn({ node: f.node, err: f.error }, 'SSH connection at start failed');
  });
  // Ambient monitoring: schedules synced with the config, this instance's share of the polls.
  const monitor = await startMonitorRuntime({
    config: o.config,
    redisUrl: o.redisUrl,
    prefix: o.prefix,
    redis: runtime.redis,
    engine: runtime.deps,
    sink: slackAlertSink(outbox),
    env: o.env,
    concurrency: o.monitorConcurrency,
    onError,
  });
  for (const w of monitor.warnings) o.log.warn(w);
  const slackWorker = new Worker(
    SLACK_QUEUE,
    createSlackProcessor(
      {
        engine: runtime.deps,
        outbox,
        threads,
        alerts: monitor.store,
        runbookNames: runbookNamesFor,
        onError,
      },
      (channel) => releaseBacklog(runtime.redis, o.prefix, channel),
    ),
    {
      connection: redisOptionsFromUrl(o.redisUrl, { maxRetriesPerRequest: null }),
      prefix: o.prefix,
      // Handlers hand their answers to the outbox and return: a slot is held for the work
      // (probes, the engine), never for a channel's turn to post.
      concurrency: 8,
      runRetryDelay: 1000,
    },
  );
  slackWorker.on('error', onError);
  slackWorker.on('failed', (job, err) =>
    o.log.error({ job: job?.name, err: err.message }, 'Slack job failed'),
  );
  // Listeners must fail fast when Redis is away: no offline queue, one try.
  const jobs = createSlackJobs(
    redisOptionsFromUrl(o.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
    o.prefix,
  );

  const clientOptions = { ...(slackApiUrl ? { slackApiUrl } : {}), retryConfig: { retries: 0 } };
  const app =
    o.settings.SLACK_MODE === 'socket'
      ? new App({
          token: o.settings.SLACK_BOT_TOKEN,
          appToken: o.settings.SLACK_APP_TOKEN,
          socketMode: true,
          clientOptions,
          logLevel: LogLevel.WARN,
        })
      : new App({
          token: o.settings.SLACK_BOT_TOKEN,
          signingSecret: o.settings.SLACK_SIGNING_SECRET,
          clientOptions,
          logLevel: LogLevel.WARN,
        });
  registerCommands(app, { config: o.config, jobs, runbookNames: runbookNames(), now: Date.now });
  app.error(async (err) => o.log.error({ err: err.message }, 'Slack listener error'));

  if (o.settings.SLACK_MODE === 'http') await app.start(o.settings.PORT);
  else await app.start();
  o.log.info({ mode: o.settings.SLACK_MODE }, 'Recover is listening to Slack');
  const heartbeat = o.heartbeatFile ? startHeartbeat(o.heartbeatFile, runtime) : undefined;

  return {
    app,
    runtime,
    notifier,
    monitor,
    async stop() {
      clearInterval(heartbeat);
      await app.stop();
      await monitor.close();
      await closeWorker(slackWorker, 5_000);
      await jobs.close();
      await notifier.drain();
      outbox.close();
      await runtime.close();
    },
  };
}

/** A beat only when Redis answers: a bot that lost its queue is not healthy, whatever Slack says. */
function startHeartbeat(file: string, runtime: EngineRuntime): NodeJS.Timeout {
  const beat = () =>
    runtime.redis
      .ping()
      .then(() => writeFile(file, new Date().toISOString() + '\n'))
      .catch(() => undefined);
  void beat();
  const timer = setInterval(beat, 10_000);
  timer.unref();
  return timer;
}
