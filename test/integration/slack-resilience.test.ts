import { startSlackBot, type SlackBot } from '../../src/app/slack-bot';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { parseSlackSettings } from '../../src/slack/settings';
import { createLogger } from '../../src/util/logger';
import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '../../src/engine/redis-options';
import { createSlackJobs, EnqueueTimeoutError } from '../../src/slack/jobs';
import { closedPort } from '../helpers/blackhole';
import { configWithAccess } from '../helpers/engine';
import { ownRedis, type OwnRedis } from '../helpers/own-redis';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import {
  postToApp,
  signedRequest,
  slashCommandBody,
  slashCommandPayload,
  startSlackStandin,
  type SlackStandin,
} from '../helpers/slack-standin';

const SECRET = 'resilience-signing-secret-0123';
let fleet: Fleet;
let standin: SlackStandin;
let redis: OwnRedis;

beforeAll(async () => {
  fleet = await testFleet(
    'res',
    [masterNode('mysql'), slaveNode('rls-1', 'mysql', 1042), slaveNode('rls-2', 'postgres', 1042)],
    'res',
  );
  standin = await startSlackStandin();
  redis = await ownRedis(['--maxmemory-policy', 'noeviction', '--appendonly', 'yes']);
  await redis.start();
});

afterAll(async () => {
  await standin.close();
  await redis.destroy();
  await fleet.destroy();
});

async function bot(settings: Record<string, string>): Promise<SlackBot> {
  return startSlackBot({
    config: configWithAccess(fleet, { approvers: ['U0BOB'] }).config,
    settings: parseSlackSettings({ SLACK_BOT_TOKEN: 'xoxb-res', SLACK_API_URL: standin.url, ...settings }),
    redisUrl: redis.url,
    prefix: `t-res-${process.pid}`,
    env: fleet.env,
    log: createLogger('silent'),
    minPostIntervalMs: 20,
  });
}

it('Socket Mode: /recover status over the WebSocket is acked in time and answered in the channel', async () => {
  const b = await bot({ SLACK_MODE: 'socket', SLACK_APP_TOKEN: 'xapp-res' });
  try {
    await standin.socket.waitForConnection();
    const since = Date.now();
    const ack = await standin.socket.send(
      'slash_commands',
      slashCommandPayload({
        command: '/recover',
        text: 'status res',
        user_id: 'U0ALICE',
        channel_id: 'C0RES',
      }),
    );
    expect(JSON.stringify(ack.payload)).toContain('Inspecting res');
    // Acked before the work it stands for: the answer was not yet in the channel.
    const postedYet = () =>
      standin.calls.some(
        (c) => c.method === 'chat.postMessage' && c.at >= since && c.args.channel === 'C0RES',
      );
    expect(postedYet()).toBe(false);
    const post = await standin.waitFor(() =>
      standin.calls.find(
        (c) => c.method === 'chat.postMessage' && c.at >= since && c.args.channel === 'C0RES',
      ),
    );
    expect(postedYet()).toBe(true);
    expect(JSON.stringify(post.args.blocks)).toMatch(/Dedicated sequence number[^"]*1042/);
  } finally {
    await b.stop();
  }
}, 30_000);

it('with Redis not answering, a listener still acks within 3 s and tells the user, ephemerally', async () => {
  const port = await closedPort();
  const b = await bot({ SLACK_MODE: 'http', SLACK_SIGNING_SECRET: SECRET, PORT: String(port) });
  const admin = new Redis(redis.url);
  const pinger = new Redis(redis.url);
  try {
    await pinger.ping();
    await admin.call('CLIENT', 'PAUSE', '4000', 'ALL');
    // Answered only once the pause is over: the moment Redis is back.
    let redisBack = false;
    const back = pinger.ping().then(() => (redisBack = true));
    const body = slashCommandBody({
      command: '/recover',
      text: 'status res',
      user_id: 'U0ALICE',
      channel_id: 'C0RES',
      response_url: standin.responseUrl('redis-slow'),
    });
    const r = await postToApp(`http://127.0.0.1:${port}/slack/events`, body, signedRequest(SECRET, body));
    expect(r.status).toBe(200);
    // The ack did not wait for Redis: it came while Redis was still paused, and before the answer
    // that the listener sends once it gives up queueing.
    expect(redisBack).toBe(false);
    expect(standin.responses.find((x) => x.id === 'redis-slow')).toBeUndefined();
    await back;
    const answer = await standin.waitFor(() => standin.responses.find((x) => x.id === 'redis-slow'), 5000);
    expect(JSON.stringify(answer.body)).toContain('"response_type":"ephemeral"');
    expect(JSON.stringify(answer.body)).toMatch(
      /could not queue that request.*did not answer within 1500 ms: it may still run/,
    );
  } finally {
    await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    admin.disconnect();
    pinger.disconnect();
    await b.stop();
  }
}, 30_000);

it('with Redis down, the producer fails at once with a clear reason (nothing queued)', async () => {
  const jobs = createSlackJobs(
    redisOptionsFromUrl(`redis://127.0.0.1:${await closedPort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    }),
    'x',
  );
  const err = await jobs
    .enqueue('status', { topology: 'res', channel: 'C', user: 'U' }, { parts: ['x'], ttlMs: 1000 })
    .catch((e: unknown) => e);
  // The connection's own error, not the enqueue timeout: it failed at once, without waiting.
  expect(err).not.toBeInstanceOf(EnqueueTimeoutError);
  expect(String(err)).toMatch(/writeable|ECONNREFUSED|Connection is closed/);
  await jobs.close().catch(() => undefined);
});
