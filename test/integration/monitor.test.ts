/**
 * Ambient monitoring end to end: real databases (PostgreSQL and MariaDB), real Redis and BullMQ,
 * the real bot; Slack is the stand-in at the wire. Short interval; waits poll with generous deadlines.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SlackBot } from '../../src/app/slack-bot';
import { serviceUrls } from '../../src/config/env';
import { RecoverConfig } from '../../src/config/topology';
import {
  clearReplicatorIdRows,
  insertReplicatorIdRows,
  type Fleet,
} from '../../src/flavours/coremedia/fleet/fleet';
import { schedulerId } from '../../src/monitor/schedule';
import { ACTION } from '../../src/slack/constants';
import { blocksAsText } from '../helpers/blocks-text';
import { dropPrefix } from '../helpers/engine';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { startHttpBot } from '../helpers/http-bot';
import { pollsPass as monitorPollsPass } from '../helpers/monitor';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { buttonsIn, clickPayload } from '../helpers/slack-clicks';
import {
  blockActionBody,
  postToApp,
  signedRequest,
  startSlackStandin,
  type RecordedCall,
  type SlackStandin,
} from '../helpers/slack-standin';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

const SECRET = 'monitor-signing-secret-0123456789';
const ALERTS = 'C0ALERTS';
const TOPOLOGY = 'mon';
const prefix = `t-mon-${process.pid}`;

let fleet: Fleet;
let standin: SlackStandin;
let proxy: TcpProxy;
let config: RecoverConfig;
let bot: SlackBot;
let appUrl: string;

beforeAll(async () => {
  fleet = await testFleet(
    TOPOLOGY,
    [
      masterNode('postgres'),
      slaveNode('rls-1', 'mysql', 1042),
      slaveNode('rls-2', 'postgres', 1042),
      slaveNode('rls-3', 'postgres', 1042),
    ],
    'mon',
  );
  standin = await startSlackStandin();
  // rls-3 is reached through a forwarder, so the test can take it dark and bring it back.
  proxy = await startTcpProxy(Number(new URL(serviceUrls().fleetPostgresUrl).port || 5432));
  const raw = structuredClone(fleet.config) as unknown as { topologies: Record<string, unknown>[] };
  const t = raw.topologies[0]!;
  (t.nodes as { name: string; db: { port: number } }[]).find((n) => n.name === 'rls-3')!.db.port = proxy.port;
  t.access = { channels: ['C0INCIDENT'] };
  t.probe = { timeoutMs: 2000 };
  t.monitor = {
    intervalMs: 300,
    jitterMs: 0,
    refreshMs: 4000,
    alertChannel: ALERTS,
    thresholds: {
      unreachableForMs: 1000,
      flapWindowMs: 120_000,
      divergence: { maxDelta: 1000, forMs: 60_000 },
    },
  };
  config = RecoverConfig.parse(raw);
  bot = await startBot();
});

afterAll(async () => {
  await bot?.stop();
  await standin?.close();
  await proxy?.close();
  await dropPrefix(prefix);
  await fleet?.destroy();
  await expectNoLeakedHandles(1500);
});

async function startBot(): Promise<SlackBot> {
  const started = await startHttpBot({
    config,
    slackApiUrl: standin.url,
    prefix,
    env: fleet.env,
    signingSecret: SECRET,
    botToken: 'xoxb-monitor',
  });
  appUrl = started.appUrl;
  return started.bot;
}

const alertPosts = (key: string) =>
  standin
    .callsTo('chat.postMessage')
    .filter((c) => c.args.channel === ALERTS && !c.args.thread_ts && buttonsKey(c) === key);
/** The alert key a message's Acknowledge button carries (resolved messages keep Inspect only). */
function buttonsKey(c: RecordedCall): string | undefined {
  const ack = buttonsIn(c, '').find((b) => b.actionId === ACTION.alertAck);
  return ack ? (JSON.parse(ack.value) as { key: string }).key : undefined;
}
const alertOf = (key: string) => bot.monitor.store.get(TOPOLOGY, key);
/** The alert's Slack ts, once the instance that claimed it has posted it. */
async function tsOf(key: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const a = await alertOf(key);
    if (a?.ts) return a.ts;
    if (Date.now() > deadline) throw new Error(`alert ${key} was never posted`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const replies = (ts: string) =>
  standin.callsTo('chat.postMessage').filter((c) => c.args.channel === ALERTS && c.args.thread_ts === ts);
const pollsPass = (n: number) => monitorPollsPass(bot.runtime.redis, prefix, TOPOLOGY, n);
const transcript: string[] = [];
const record = (title: string, blocks: unknown) => transcript.push(`── ${title}\n${blocksAsText(blocks)}`);

it('syncs one Job Scheduler for the monitored topology', async () => {
  const schedulers = await bot.monitor.queue.getJobSchedulers(0, -1);
  expect(schedulers.map((s) => [s.key, s.every])).toEqual([[schedulerId(TOPOLOGY), 300]]);
});

it('a row in a slave’s ReplicatorIdTable → one alert; kept → the same message updated; deleted → resolved in its thread', async () => {
  const key = 'replicator-id-rows.rls-2';
  await insertReplicatorIdRows(fleet, 'rls-2', 1);
  const ts = await tsOf(key);
  const first = await standin.waitFor(() => alertPosts(key)[0], 10_000);
  expect(first.args.channel).toBe(ALERTS);
  const shown = blocksAsText(first.args.blocks);
  expect(shown).toContain('ReplicatorIdTable on rls-2 has 1 row: rls-2 is inconsistent');
  expect(shown).toContain('Rows found in ReplicatorIdTable');
  expect(shown).toMatch(/Current proposal:.*dedicated slave rls-1; to restore: rls-2/);
  expect(shown).toMatch(/\[Inspect\] \[Plan slave-from-master rls-2\] \[Acknowledge\]/);
  record('chat.postMessage (the alert)', first.args.blocks);

  // Unchanged for several polls: no new post, and no update before refreshMs (4 s).
  await pollsPass(3);
  expect(alertPosts(key)).toHaveLength(1);
  expect(standin.message(ALERTS, ts)?.updates).toBe(0);
  // Kept for longer: the same message is updated in place ("last seen" moves), still no new post.
  const lastSeen = (text: string) => /last seen ([^·\n]+)/.exec(text)?.[1];
  const firstSeen = lastSeen(shown);
  await standin.waitFor(() => standin.message(ALERTS, ts)?.updates === 1, 10_000);
  expect(lastSeen(blocksAsText(standin.message(ALERTS, ts)?.blocks))).not.toBe(firstSeen);
  expect(alertPosts(key)).toHaveLength(1);

  // Still there, and now two rows: the same message is updated in place.
  await insertReplicatorIdRows(fleet, 'rls-2', 1);
  await standin.waitFor(
    () => blocksAsText(standin.message(ALERTS, ts)?.blocks).includes('has 2 rows'),
    10_000,
  );
  await pollsPass(2);
  expect(alertPosts(key)).toHaveLength(1);
  expect(standin.message(ALERTS, ts)?.updates).toBeGreaterThanOrEqual(2); // a refresh may also have come
  record('chat.update (same message, a second row appeared)', standin.message(ALERTS, ts)?.blocks);

  await clearReplicatorIdRows(fleet, 'rls-2');
  const resolution = await standin.waitFor(() => replies(ts)[0], 10_000);
  expect(blocksAsText(resolution.args.blocks)).toMatch(
    /Resolved after .*: ReplicatorIdTable on rls-2 is empty again/,
  );
  await standin.waitFor(
    () => blocksAsText(standin.message(ALERTS, ts)?.blocks).startsWith('✅ Resolved'),
    10_000,
  );
  expect(alertPosts(key)).toHaveLength(1);
  expect(blocksAsText(standin.message(ALERTS, ts)?.blocks)).toMatch(
    /^✅ Resolved: ReplicatorIdTable on rls-2/,
  );
  expect(await bot.monitor.store.openKeys(TOPOLOGY)).toEqual([]);
  record('thread reply (the resolution)', resolution.args.blocks);
  record('chat.update (the alert, resolved)', standin.message(ALERTS, ts)?.blocks);
  writeFileSync(join(tmpdir(), 'recover-monitor-alert.txt'), transcript.join('\n\n') + '\n');
}, 60_000);

it('flapping: the condition returns within the window → the same message, a note in its thread, no new post', async () => {
  const key = 'replicator-id-rows.rls-2';
  const ts = (await alertOf(key))!.ts!;
  const before = replies(ts).length;
  await insertReplicatorIdRows(fleet, 'rls-2', 1);
  const back = await standin.waitFor(
    () =>
      replies(ts)
        .slice(before)
        .find((c) => String(c.args.text).includes('Back again')),
    10_000,
  );
  expect(blocksAsText(back.args.blocks)).toContain('ReplicatorIdTable on rls-2 has 1 row');
  await standin.waitFor(
    () => blocksAsText(standin.message(ALERTS, ts)?.blocks).includes('came back 1 time'),
    10_000,
  );
  expect(alertPosts(key)).toHaveLength(1);
  expect(await alertOf(key)).toMatchObject({ state: 'open', flaps: 1, ts });
  await clearReplicatorIdRows(fleet, 'rls-2');
  await standin.waitFor(() => replies(ts).length >= before + 2, 10_000);
}, 30_000);

it('Acknowledge records who and silences updates; the resolution still comes', async () => {
  // Rows on rls-1 also move the dedicated slave from rls-1 to rls-2: a second condition.
  const key = 'replicator-id-rows.rls-1';
  await insertReplicatorIdRows(fleet, 'rls-1', 1);
  const ts = await tsOf(key);
  const post = await standin.waitFor(() => alertPosts(key)[0], 10_000);
  const changed = await standin.waitFor(() => alertPosts('dedicated-changed')[0], 10_000);
  expect(blocksAsText(changed.args.blocks)).toContain('The dedicated slave changed: rls-1 → rls-2');

  const ack = buttonsIn(post, ts).find((b) => b.actionId === ACTION.alertAck)!;
  const body = blockActionBody(clickPayload(ack, 'U0BOB', standin.responseUrl('ack')));
  expect((await postToApp(appUrl, body, signedRequest(SECRET, body))).status).toBe(200);
  await standin.waitFor(
    () => blocksAsText(standin.message(ALERTS, ts)?.blocks).includes('Acknowledged by <@U0BOB>'),
    10_000,
  );
  expect(await alertOf(key)).toMatchObject({ ackedBy: 'U0BOB' });
  const updates = standin.message(ALERTS, ts)!.updates;

  await insertReplicatorIdRows(fleet, 'rls-1', 2);
  await pollsPass(4);
  expect(standin.message(ALERTS, ts)!.updates).toBe(updates);
  expect(alertPosts(key)).toHaveLength(1);

  await clearReplicatorIdRows(fleet, 'rls-1');
  const resolution = await standin.waitFor(() => replies(ts)[0], 10_000);
  expect(blocksAsText(resolution.args.blocks)).toContain('ReplicatorIdTable on rls-1 is empty again');
  const changedTs = (await alertOf('dedicated-changed'))!.ts!;
  await standin.waitFor(() => replies(changedTs)[0], 10_000);
}, 60_000);

it('Inspect posts the status and Plan recovery the condition’s plan, in the alert channel', async () => {
  const key = 'replicator-id-rows.rls-2';
  const post = alertPosts(key)[0]!;
  const since = Date.now();
  for (const id of [ACTION.alertInspect, ACTION.alertPlan]) {
    const b = buttonsIn(post, (await alertOf(key))!.ts!).find((x) => x.actionId === id)!;
    const body = blockActionBody(clickPayload(b, 'U0CAROL', standin.responseUrl(id)));
    expect((await postToApp(appUrl, body, signedRequest(SECRET, body))).status).toBe(200);
  }
  const posted = (text: RegExp) =>
    standin.waitFor(
      () =>
        standin
          .callsTo('chat.postMessage')
          .find((c) => c.at >= since && c.args.channel === ALERTS && text.test(blocksAsText(c.args.blocks))),
      15_000,
    );
  await posted(/Status: mon/);
  await posted(/slave-from-master/);
}, 30_000);

it('restarting the bot between polls makes no duplicate alert', async () => {
  const key = 'replicator-id-rows.mls';
  await insertReplicatorIdRows(fleet, 'mls', 1);
  const ts = await tsOf(key);
  await standin.waitFor(() => alertPosts(key)[0], 10_000);
  await bot.stop();
  bot = await startBot();
  await pollsPass(4);
  expect(alertPosts(key)).toHaveLength(1);
  expect(await bot.monitor.queue.getJobSchedulers(0, -1)).toHaveLength(1);
  await clearReplicatorIdRows(fleet, 'mls');
  await standin.waitFor(() => replies(ts)[0], 10_000);
}, 60_000);

it('a node that goes dark → an unreachable alert after the threshold; back → resolved', async () => {
  const key = 'unreachable.rls-3';
  await proxy.block();
  const ts = await tsOf(key);
  const post = await standin.waitFor(() => alertPosts(key)[0], 10_000);
  const shown = blocksAsText(post.args.blocks);
  expect(shown).toContain('rls-3 (slave) is unreachable');
  expect(shown).toMatch(/rls-3: unreachable: (connection refused|cannot connect)/);
  await proxy.unblock();
  const resolution = await standin.waitFor(() => replies(ts)[0], 15_000);
  expect(blocksAsText(resolution.args.blocks)).toContain('rls-3 answers again');
  expect(alertPosts(key)).toHaveLength(1);
  // No secret or token ever reached Slack.
  expect(standin.calls.every((c) => !JSON.stringify(c.args).includes('xoxb-monitor'))).toBe(true);
}, 60_000);
