/**
 * The Slack path under load, against the stand-in at the wire and a real bot: one request per
 * request (set-if-absent on its identity), and a busy channel never makes another channel wait.
 */
import { Queue } from 'bullmq';
import type { SlackBot } from '../../src/app/slack-bot';
import { serviceUrls } from '../../src/config/env';
import { redisOptionsFromUrl } from '../../src/engine/redis-options';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { createSlackJobs, SLACK_QUEUE } from '../../src/slack/jobs';
import { configWithAccess, dropPrefix } from '../helpers/engine';
import { startHttpBot } from '../helpers/http-bot';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import {
  postToApp,
  signedRequest,
  slashCommandBody,
  startSlackStandin,
  type SlackStandin,
} from '../helpers/slack-standin';

const SECRET = 'fair-signing-secret-0123456789';
const prefix = `t-fair-${process.pid}`;
const connection = () => redisOptionsFromUrl(serviceUrls().redisUrl, { enableOfflineQueue: false });
let queue: Queue;

beforeAll(() => {
  queue = new Queue(SLACK_QUEUE, { connection: redisOptionsFromUrl(serviceUrls().redisUrl), prefix });
});
afterAll(async () => {
  await queue.close();
  await dropPrefix(prefix);
});

describe('the producer', () => {
  const jobsNow = () => queue.getJobs(['waiting', 'prioritized', 'active', 'completed', 'failed']);
  afterEach(async () => {
    await queue.obliterate({ force: true });
    await dropPrefix(prefix);
  });

  it('makes one job of a request delivered twice 1.5 s apart, and a new job of a new request', async () => {
    const jobs = createSlackJobs(connection(), prefix);
    try {
      const data = { topology: 't', channel: 'C1', user: 'U1' };
      const request = { parts: ['T1', 'trigger-1'], ttlMs: 60_000 };
      expect(await jobs.enqueue('status', data, request)).toBe('queued');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await jobs.enqueue('status', data, request)).toBe('duplicate');
      expect(await jobs.enqueue('status', data, { ...request, parts: ['T1', 'trigger-2'] })).toBe('queued');
      expect(await jobsNow()).toHaveLength(2);
      // Once its lifetime is over, the same identity is a new request.
      const short = { parts: ['T1', 'trigger-3'], ttlMs: 200 };
      expect(await jobs.enqueue('status', data, short)).toBe('queued');
      await new Promise((r) => setTimeout(r, 300));
      expect(await jobs.enqueue('status', data, short)).toBe('queued');
      expect(await jobsNow()).toHaveLength(4);
    } finally {
      await jobs.close();
    }
  });

  it('orders by channel backlog, with the clicks that move a run ahead of every request', async () => {
    const jobs = createSlackJobs(connection(), prefix);
    try {
      const at = (channel: string, i: number) => ({ parts: [channel, String(i)], ttlMs: 60_000 });
      for (let i = 0; i < 3; i++)
        await jobs.enqueue('status', { topology: 't', channel: 'C-BUSY', user: 'U1' }, at('b', i));
      await jobs.enqueue('status', { topology: 't', channel: 'C-INCIDENT', user: 'U2' }, at('i', 0));
      await jobs.enqueue(
        'approve',
        { channel: 'C-INCIDENT', user: 'U3', runId: 'r', gate: 'g', planHash: 'h' },
        at('a', 0),
      );
      const all = await jobsNow();
      const priorityOf = (channel: string, name = 'status') =>
        all
          .filter((j) => j.name === name && j.data.channel === channel)
          .map((j) => j.opts.priority ?? 0)
          .sort();
      expect(priorityOf('C-BUSY')).toEqual([1, 2, 3]);
      expect(priorityOf('C-INCIDENT')).toEqual([1]);
      expect(priorityOf('C-INCIDENT', 'approve')).toEqual([0]);
    } finally {
      await jobs.close();
    }
  });
});

describe('the bot', () => {
  let fleet: Fleet;
  let standin: SlackStandin;
  let bot: SlackBot;
  let appUrl: string;

  beforeAll(async () => {
    fleet = await testFleet('fair', [masterNode('postgres'), slaveNode('rls-1', 'postgres', 1042)], 'fair');
    standin = await startSlackStandin();
    const { config } = configWithAccess(fleet, { approvers: ['U0BOB'] });
    // Slack's real pace: about one message a second per channel.
    ({ bot, appUrl } = await startHttpBot({
      config,
      slackApiUrl: standin.url,
      prefix: `${prefix}-bot`,
      env: fleet.env,
      signingSecret: SECRET,
      botToken: 'xoxb-fair-token',
      minPostIntervalMs: 1100,
    }));
  });
  afterAll(async () => {
    await bot?.stop();
    await standin?.close();
    await dropPrefix(`${prefix}-bot`);
    await fleet?.destroy();
  });

  const slash = (channel: string, user: string) => {
    const body = slashCommandBody({
      command: '/recover',
      text: 'status fair',
      user_id: user,
      channel_id: channel,
    });
    return postToApp(appUrl, body, signedRequest(SECRET, body));
  };
  const postsIn = (channel: string) =>
    standin.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);

  it("answers the incident channel within a second while another channel's 20 answers wait their turn", async () => {
    const busy = await Promise.all(Array.from({ length: 20 }, (_, i) => slash('C0BUSY', `U0BUSY${i}`)));
    expect(busy.every((r) => r.status === 200)).toBe(true);
    await standin.waitFor(() => postsIn('C0BUSY').length >= 2, 10_000);
    const asked = Date.now();
    expect((await slash('C0INCIDENT', 'U0ALICE')).status).toBe(200);
    const answer = await standin.waitFor(() => postsIn('C0INCIDENT')[0], 10_000);
    expect(JSON.stringify(answer.args.blocks)).toContain('rls-1');
    expect(answer.at - asked).toBeLessThan(1000);
    // The busy channel was still working through its backlog at Slack's pace.
    expect(postsIn('C0BUSY').length).toBeLessThan(20);
    // At Slack's pace: over any 5.5 s, at most 5 posts and the two kept for people.
    const at = postsIn('C0BUSY').map((c) => c.at);
    for (const t of at) expect(at.filter((u) => u >= t && u < t + 5 * 1100).length).toBeLessThanOrEqual(7);
  }, 60_000);
});
