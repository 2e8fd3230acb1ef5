import { copyFileSync, existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runRecover } from '../helpers/run-cli';
import { Queue } from 'bullmq';
import type { SlackBot } from '../../src/app/slack-bot';
import { serviceUrls } from '../../src/config/env';
import { redisOptionsFromUrl } from '../../src/engine/redis-options';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { SLACK_QUEUE } from '../../src/slack/jobs';
import { makeFreshlyRestored, onNode, systemRows } from '../helpers/coremedia-sql';
import { configWithAccess, dropPrefix } from '../helpers/engine';
import { startHttpBot } from '../helpers/http-bot';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { buttonsIn, clickPayload, waitForButton } from '../helpers/slack-clicks';
import {
  blockActionBody,
  postToApp,
  signedRequest,
  slashCommandBody,
  startSlackStandin,
  type SlackStandin,
} from '../helpers/slack-standin';

const SECRET = 'e2e-signing-secret-0123456789';
const BOT_TOKEN = 'xoxb-e2e-bot-token';
const prefix = `t-slack-${process.pid}`;
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CHANNEL = 'C0INCIDENT';

let fleet: Fleet;
let standin: SlackStandin;
let bot: SlackBot;
let appUrl: string;
let slackQueue: Queue;
const heartbeatFile = join(mkdtempSync(join(tmpdir(), 'recover-hb-')), 'heartbeat');

beforeAll(async () => {
  fleet = await testFleet(
    'e2e',
    [
      masterNode('postgres'),
      slaveNode('rls-1', 'mysql', 1042),
      slaveNode('rls-2', 'postgres', 1042),
      slaveNode('rls-3', 'mysql', 1030),
    ],
    'slk',
  );
  standin = await startSlackStandin({ groups: { S0DBAS: [BOB] } });
  const { config } = configWithAccess(fleet, { approvers: ['S0DBAS'], channels: [CHANNEL] });
  ({ bot, appUrl } = await startHttpBot({
    config,
    slackApiUrl: standin.url,
    prefix,
    env: fleet.env,
    signingSecret: SECRET,
    botToken: BOT_TOKEN,
    heartbeatFile,
  }));
  slackQueue = new Queue(SLACK_QUEUE, { connection: redisOptionsFromUrl(serviceUrls().redisUrl), prefix });
});

afterAll(async () => {
  await bot?.stop();
  rmSync(dirname(heartbeatFile), { recursive: true, force: true });
  await slackQueue?.close();
  await standin?.close();
  await dropPrefix(prefix);
  await fleet?.destroy();
});

const slash = (text: string, user = ALICE, opts: Parameters<typeof signedRequest>[2] = {}) => {
  const body = slashCommandBody({
    command: '/recover',
    text,
    user_id: user,
    channel_id: CHANNEL,
    response_url: standin.responseUrl(`slash-${Date.now()}`),
  });
  return postToApp(appUrl, body, signedRequest(SECRET, body, opts));
};
const click = (button: Parameters<typeof clickPayload>[0], user: string) => {
  const body = blockActionBody(clickPayload(button, user, standin.responseUrl(`click-${Date.now()}`)));
  return postToApp(appUrl, body, signedRequest(SECRET, body));
};
const allJobs = () =>
  slackQueue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized']);
const slackJobs = async () => (await allJobs()).length;
const jobsOf = async (user: string) =>
  (await allJobs()).filter((j) => (j.data as { user?: string }).user === user).length;

it('beats while Slack and Redis answer: `recover health` reads the heartbeat', async () => {
  const deadline = Date.now() + 5000;
  while (!existsSync(heartbeatFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const healthy = await runRecover(['health', '--file', heartbeatFile]);
  expect(healthy).toMatchObject({ code: 0, stdout: expect.stringMatching(/^healthy: heartbeat \d+ s old/) });
  // A beat older than the limit is a bot that stopped answering. Aged on a copy: the running bot
  // may beat again while the CLI starts, and that would make the file fresh.
  const aged = `${heartbeatFile}.aged`;
  copyFileSync(heartbeatFile, aged);
  utimesSync(aged, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
  const stale = await runRecover(['health', '--file', aged, '--max-age', '60']);
  expect(stale).toMatchObject({
    code: 1,
    stderr: expect.stringMatching(/^unhealthy: heartbeat 1\d\d s old/),
  });
  const missing = await runRecover(['health', '--file', `${heartbeatFile}.none`]);
  expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('unhealthy: no heartbeat at') });
});

it('/recover status posts the node table and the proposal in the channel', async () => {
  const since = Date.now();
  const r = await slash('status e2e');
  expect(r.status).toBe(200);
  // Acked before the work it stands for: the table was not yet in the channel.
  expect(standin.calls.some((c) => c.method === 'chat.postMessage' && c.at >= since)).toBe(false);
  const post = await standin.waitFor(() =>
    standin.calls.find((c) => c.method === 'chat.postMessage' && c.at >= since),
  );
  expect(post.args.channel).toBe(CHANNEL);
  const text = JSON.stringify(post.args.blocks);
  expect(text).toContain('rls-1');
  expect(text).toMatch(/Dedicated sequence number[^"]*1042/);
  expect(text).toMatch(/dedicated slave[^"]*rls-1/i);
  // A runbook that acts on one slave offers a Plan button per slave to rebuild, never one without a target.
  const plans = buttonsIn(post, 'ts')
    .filter((b) => b.actionId === 'recover_plan_show')
    .map((b) => JSON.parse(b.value) as { runbook: string; target: string | null });
  expect(plans).toContainEqual({ topology: 'e2e', runbook: 'slave-from-master', target: 'rls-3' });
  expect(plans.filter((p) => p.runbook.startsWith('slave-from-master') && p.target === null)).toEqual([]);
  expect(plans).toContainEqual({ topology: 'e2e', runbook: 'master-from-slave', target: null });
  // Slack refuses a message whose actions block repeats an action_id.
  for (const block of post.args.blocks as { type: string; elements?: { action_id?: string }[] }[]) {
    const ids = (block.elements ?? []).map((e) => e.action_id).filter(Boolean);
    expect(new Set(ids).size).toBe(ids.length);
  }
  expect(standin.calls.every((c) => !JSON.stringify(c.args).includes(BOT_TOKEN))).toBe(true);
});

it('plan → Start by A → step results in the thread → A cannot approve, B can → done, rows right', async () => {
  await makeFreshlyRestored(fleet, 'rls-3');
  const since = Date.now();
  expect((await slash('plan e2e slave-from-master-sql rls-3')).status).toBe(200);
  const start = await waitForButton(standin, 'recover_run_start', since);
  expect((await click(start, ALICE)).status).toBe(200);

  // Parent message, then the read step's result in its thread, then the approval request.
  const approveButton = await waitForButton(standin, 'recover_approve', since);
  const parent = standin.calls.find(
    (c) =>
      c.method === 'chat.postMessage' &&
      c.at >= since &&
      JSON.stringify(c.args.blocks).includes('slave-from-master-sql') &&
      !c.args.thread_ts &&
      JSON.stringify(c.args.blocks).includes('recover_run_abort'),
  );
  expect(parent).toBeDefined();
  // The read step's result comes in the thread too; the approval request (a person is waiting
  // on it) may have gone ahead of it.
  const readReply = await standin.waitFor(() =>
    standin.calls.find(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.args.thread_ts &&
        JSON.stringify(c.args.blocks).includes('SELECT * FROM `changelog`') &&
        !JSON.stringify(c.args.blocks).includes('recover_approve'),
    ),
  );
  expect(readReply.args.thread_ts).toBeTruthy();

  // The run's message carries the gate's Approve too (an update: not held by the channel's posts).
  const onParent = await standin.waitFor(() =>
    standin
      .callsTo('chat.update')
      .find((c) => c.at >= since && JSON.stringify(c.args.blocks).includes('recover_approve')),
  );
  expect(JSON.stringify(onParent.args.blocks)).toContain('Waiting for a second person');
  expect(JSON.stringify(onParent.args.blocks)).toContain(JSON.stringify(approveButton.value).slice(1, -1));

  // A clicks Approve: refused, ephemerally, to A alone.
  await click(approveButton, ALICE);
  const refusal = await standin.waitFor(() =>
    standin.calls.find(
      (c) =>
        c.method === 'chat.postEphemeral' &&
        c.args.user === ALICE &&
        c.at >= since &&
        JSON.stringify(c.args).includes('cannot approve'),
    ),
  );
  expect(refusal.args.channel).toBe(CHANNEL);
  expect((await systemRows(fleet, 'rls-3')).replicator_remote).toBeUndefined();

  // B (in the S0DBAS user group) approves each gate in turn.
  const clicked = new Set<string>();
  for (let gate = 0; gate < 3; gate++) {
    const button = await waitForButton(
      standin,
      'recover_approve',
      since,
      15_000,
      (b) => !clicked.has(b.value),
    );
    clicked.add(button.value);
    expect((await click(button, BOB)).status).toBe(200);
  }
  expect([...clicked].map((v) => (JSON.parse(v) as { gate: string }).gate)).toEqual([
    'replicator-rows',
    'delete-licenses',
    'set-server-type',
  ]);
  const runs = await bot.runtime.deps.ledger.listRuns('e2e');
  const runId = runs[0]!.id;
  const deadline = Date.now() + 20_000;
  while ((await bot.runtime.deps.ledger.getRun(runId))?.state !== 'done' && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  expect((await bot.runtime.deps.ledger.getRun(runId))?.state).toBe('done');
  expect(await systemRows(fleet, 'rls-3')).toMatchObject({
    replicator_remote: '1030',
    replicator_local: '1030',
    replicator_tag: 'tag-1030',
    repository_server_type: 'live',
  });
  expect(await onNode(fleet, 'rls-3', 'SELECT * FROM CmLicenses')).toEqual([]);

  await bot.notifier.drain();
  // The approval messages were updated to say who approved; the parent shows the run done.
  const updates = standin.callsTo('chat.update').filter((c) => c.at >= since);
  expect(updates.some((c) => JSON.stringify(c.args).includes(`<@${BOB}>`))).toBe(true);
  // The parent message (the one updated with the run's progress) shows the run done at the end.
  const parentTs = updates.find((c) => /Progress/i.test(JSON.stringify(c.args.blocks)))?.args.ts;
  expect(parentTs).toBeDefined();
  const shown = standin.message(CHANNEL, String(parentTs));
  expect(JSON.stringify(shown?.blocks)).toMatch(/done/i);
  // No update repeated what Slack already showed.
  const contents = updates.map((c) => `${String(c.args.ts)} ${JSON.stringify(c.args.blocks)}`);
  for (let i = 1; i < contents.length; i++) expect(contents[i]).not.toBe(contents[i - 1]);
  expect(standin.calls.every((c) => !JSON.stringify(c.args).includes(BOT_TOKEN))).toBe(true);
}, 60_000);

it('forged signature, altered body, stale timestamp: 401 and nothing enqueued; a retried request makes one job', async () => {
  const forged = slashCommandBody({
    command: '/recover',
    text: 'status e2e',
    user_id: 'U0MALLORY',
    channel_id: CHANNEL,
  });
  const now = Math.floor(Date.now() / 1000);
  expect(
    (await postToApp(appUrl, forged, signedRequest(SECRET, forged, { signature: 'v0=' + '0'.repeat(64) })))
      .status,
  ).toBe(401);
  expect(
    (await postToApp(appUrl, forged.replace('status', 'runs'), signedRequest(SECRET, forged))).status,
  ).toBe(401);
  expect(
    (await postToApp(appUrl, forged, signedRequest(SECRET, forged, { timestamp: now - 6 * 60 }))).status,
  ).toBe(401);

  // Carol has not asked for a status yet: her request, delivered twice, must make exactly one job.
  const body = slashCommandBody({
    command: '/recover',
    text: 'status e2e',
    user_id: 'U0CAROL',
    channel_id: CHANNEL,
  });
  expect((await postToApp(appUrl, body, signedRequest(SECRET, body))).status).toBe(200);
  const retry = {
    ...signedRequest(SECRET, body),
    'x-slack-retry-num': '1',
    'x-slack-retry-reason': 'http_timeout',
  };
  expect((await postToApp(appUrl, body, retry)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 300));
  expect(await jobsOf('U0MALLORY')).toBe(0);
  expect(await jobsOf('U0CAROL')).toBe(1);
});

it('a mistake gets an ephemeral explanation and enqueues nothing', async () => {
  const before = await slackJobs();
  const r = await slash('status prod-lvie', 'U0DAVE');
  expect(r.status).toBe(200);
  const answer = JSON.parse(r.body) as { response_type: string; text: string };
  expect(answer.response_type).toBe('ephemeral');
  expect(JSON.stringify(answer)).toContain('unknown topology');
  expect(await jobsOf('U0DAVE')).toBe(0);
  expect(await slackJobs()).toBeGreaterThanOrEqual(before);
});

it('runs and timeline answer in Slack; another channel is refused for this topology', async () => {
  const [run] = await bot.runtime.deps.ledger.listRuns('e2e');
  expect(run).toBeDefined();
  const since = Date.now();
  expect((await slash('runs e2e', 'U0ERIN')).status).toBe(200);
  const list = await standin.waitFor(() =>
    standin.calls.find((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0ERIN' && c.at >= since),
  );
  expect(JSON.stringify(list.args.blocks)).toContain(run!.id);
  // Who started it is a mention, not a raw id.
  expect(JSON.stringify(list.args.blocks)).toContain('by <@U0ALICE>');

  expect((await slash(`timeline ${run!.id}`, 'U0ERIN')).status).toBe(200);
  // Whole, as a file (files.uploadV2), whatever its length; who asked is a mention.
  const timeline = await standin.waitFor(() => standin.files.find((f) => f.at >= since));
  expect(timeline).toMatchObject({ channel: CHANNEL, filename: `${run!.id}-timeline.md` });
  expect(timeline.initialComment).toContain('<@U0ERIN>');
  expect(timeline.content).toContain('approved gate');
  expect(timeline.content.length).toBeGreaterThan(3000);
  expect(timeline.content).toMatch(/## Steps[\s\S]*\| 6 \| `set-server-type--rls-3`/);
  expect(timeline.content).not.toContain(BOT_TOKEN);

  const body = slashCommandBody({
    command: '/recover',
    text: 'status e2e',
    user_id: 'U0ERIN',
    channel_id: 'C0RANDOM',
  });
  const refused = await postToApp(appUrl, body, signedRequest(SECRET, body));
  expect(JSON.parse(refused.body)).toMatchObject({ response_type: 'ephemeral' });
  expect(refused.body).toContain('Recover does not answer for e2e in this channel');
  expect(await jobsOf('U0ERIN')).toBe(2);
});
