/**
 * The Slack stand-in must be faithful enough that the real WebClient and the real Bolt receivers
 * (HTTP with signature checks, Socket Mode over a WebSocket) work against it unchanged.
 */
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { SLASH_COMMAND } from '../../src/slack/constants';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import {
  blockActionBody,
  postToApp,
  signedRequest,
  slashCommandBody,
  slashCommandPayload,
  startSlackStandin,
  type SlackStandin,
} from '../helpers/slack-standin';

const BOT_TOKEN = 'xoxb-standin-secret-token';
const SIGNING_SECRET = 'standin-signing-secret';
let standin: SlackStandin;

beforeAll(async () => {
  standin = await startSlackStandin({ groups: { S0DBAS: ['U0DAVE', 'U0ERIN'] } });
});
afterAll(async () => {
  await standin.close();
  await expectNoLeakedHandles();
});

const client = () =>
  new WebClient(BOT_TOKEN, {
    slackApiUrl: standin.url,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });

describe('Web API', () => {
  it('receives chat.postMessage form-encoded and records blocks as objects, the token apart', async () => {
    const blocks = [
      { type: 'section' as const, text: { type: 'mrkdwn' as const, text: '*rls-1* is behind' } },
    ];
    const first = await client().chat.postMessage({ channel: 'C0INC', text: 'status', blocks });
    const second = await client().chat.postMessage({ channel: 'C0INC', text: 'again', thread_ts: first.ts });
    expect(first.ok).toBe(true);
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));

    const [call] = standin.callsTo('chat.postMessage');
    expect(call?.args).toEqual({ channel: 'C0INC', text: 'status', blocks });
    expect(standin.tokenOf(call!)).toBe(BOT_TOKEN);
    expect(JSON.stringify(standin.calls)).not.toContain(BOT_TOKEN);
    expect(standin.message('C0INC', second.ts!)?.thread_ts).toBe(first.ts);

    await client().chat.update({ channel: 'C0INC', ts: first.ts!, text: 'status, later' });
    expect(standin.message('C0INC', first.ts!)).toMatchObject({ text: 'status, later', updates: 1 });
  });

  it('answers usergroups.users.list from groups, and unknown methods with unknown_method', async () => {
    const res = await client().usergroups.users.list({ usergroup: 'S0DBAS' });
    expect(res.users).toEqual(['U0DAVE', 'U0ERIN']);
    await expect(client().apiCall('admin.teams.list')).rejects.toMatchObject({
      data: { error: 'unknown_method' },
    });
    expect(standin.callsTo('admin.teams.list')).toHaveLength(1);
  });

  it('refuses a call without a token', async () => {
    const anonymous = new WebClient(undefined, { slackApiUrl: standin.url, retryConfig: { retries: 0 } });
    await expect(anonymous.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
  });

  it('lets a responder answer 429 with Retry-After', async () => {
    standin.setResponder('auth.test', () => ({ status: 429, headers: { 'retry-after': '7' }, body: {} }));
    const impatient = new WebClient(BOT_TOKEN, {
      slackApiUrl: standin.url,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    await expect(impatient.auth.test()).rejects.toMatchObject({ retryAfter: 7 });
    standin.setResponder('auth.test', null);
    await expect(impatient.auth.test()).resolves.toMatchObject({ ok: true, user_id: 'U0RECOVER' });
  });
});

describe('Bolt HTTP receiver with signed requests', () => {
  let app: App;
  let endpoint: string;
  const seen: string[] = [];

  beforeAll(async () => {
    const receiver = new HTTPReceiver({ signingSecret: SIGNING_SECRET, logLevel: LogLevel.ERROR });
    app = new App({
      receiver,
      token: BOT_TOKEN,
      tokenVerificationEnabled: false,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: standin.url, retryConfig: { retries: 0 } },
    });
    app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
      seen.push(command.text);
      await ack();
      await respond({ response_type: 'ephemeral', text: `got ${command.text}` });
    });
    app.action('recover_status_refresh', async ({ ack }) => ack());
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(() => app.stop());

  it('accepts a correctly signed slash command, and respond() reaches the response_url sink', async () => {
    const body = slashCommandBody({
      command: SLASH_COMMAND,
      text: 'status prod',
      response_url: standin.responseUrl('r1'),
    });
    const res = await postToApp(endpoint, body, signedRequest(SIGNING_SECRET, body));
    expect(res.status).toBe(200);
    expect(seen).toEqual(['status prod']);
    const response = await standin.waitFor(() => standin.responses.find((r) => r.id === 'r1'));
    expect(response.body).toMatchObject({ text: 'got status prod', response_type: 'ephemeral' });
  });

  it('accepts a signed block action, and a Slack retry of it', async () => {
    const body = blockActionBody({
      type: 'block_actions',
      team: { id: 'T0STANDIN' },
      user: { id: 'U0ALICE' },
      channel: { id: 'C0INC' },
      actions: [
        { type: 'button', action_id: 'recover_status_refresh', block_id: 'b', value: '{}', action_ts: '1' },
      ],
      response_url: standin.responseUrl('r2'),
      trigger_id: 't',
    });
    expect((await postToApp(endpoint, body, signedRequest(SIGNING_SECRET, body))).status).toBe(200);
    const retry = signedRequest(SIGNING_SECRET, body, { retryNum: 1, retryReason: 'http_timeout' });
    expect((await postToApp(endpoint, body, retry)).status).toBe(200);
  });

  it('refuses a forged signature and a timestamp older than five minutes', async () => {
    const body = slashCommandBody({ command: SLASH_COMMAND, text: 'status' });
    const forged = signedRequest(SIGNING_SECRET, body, { signature: `v0=${'0'.repeat(64)}` });
    expect((await postToApp(endpoint, body, forged)).status).toBe(401);
    const wrongSecret = signedRequest('not-the-secret', body);
    expect((await postToApp(endpoint, body, wrongSecret)).status).toBe(401);
    const stale = signedRequest(SIGNING_SECRET, body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect((await postToApp(endpoint, body, stale)).status).toBe(401);
    expect(seen).toEqual(['status prod']);
  });
});

describe('Bolt Socket Mode', () => {
  it('connects through apps.connections.open, receives envelopes and acks them', async () => {
    const app = new App({
      token: BOT_TOKEN,
      appToken: 'xapp-test',
      socketMode: true,
      tokenVerificationEnabled: false,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: standin.url, retryConfig: { retries: 0 } },
    });
    app.command(SLASH_COMMAND, async ({ command, ack }) =>
      ack({ response_type: 'ephemeral', text: `on it: ${command.text}` }),
    );
    app.action('recover_approve', async ({ ack }) => ack());
    await app.start();
    try {
      const [open] = standin.callsTo('apps.connections.open');
      expect(standin.tokenOf(open!)).toBe('xapp-test');
      expect(standin.socket.connections()).toBe(1);

      const command = slashCommandPayload({ command: SLASH_COMMAND, text: 'runs' });
      const ack = await standin.socket.send('slash_commands', command);
      expect(ack.payload).toEqual({ response_type: 'ephemeral', text: 'on it: runs' });
      expect(ack.ms).toBeGreaterThanOrEqual(0); // measured, for tests that compare it

      const click = {
        type: 'block_actions',
        team: { id: 'T0STANDIN' },
        user: { id: 'U0BOB' },
        actions: [
          { type: 'button', action_id: 'recover_approve', block_id: 'b', value: '{}', action_ts: '1' },
        ],
      };
      expect((await standin.socket.send('interactive', click)).payload).toEqual({});
    } finally {
      await app.stop();
    }
    await standin.waitFor(() => standin.socket.connections() === 0);
  });
});
