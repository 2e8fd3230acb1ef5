/**
 * The monitor at scale and under load rules: two bot instances share the work (one schedule, one
 * alert), a poll costs three statements per healthy node on at most one connection, schedules follow
 * the config, and a sequence moving backwards is flagged unless a Recover run holds the topology.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { SlackBot } from '../../src/app/slack-bot';
import { serviceUrls } from '../../src/config/env';
import { RecoverConfig } from '../../src/config/topology';
import { TopologyLease } from '../../src/engine/lease';
import { redisOptionsFromUrl } from '../../src/engine/redis-options';
import { insertReplicatorIdRows, setReplicator, type Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { MonitorDbs } from '../../src/monitor/monitor-dbs';
import { MONITOR_QUEUE, schedulerId, syncMonitorSchedules } from '../../src/monitor/schedule';
import { inspectTopology } from '../../src/status/inspect';
import { blocksAsText } from '../helpers/blocks-text';
import { dropPrefix } from '../helpers/engine';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { startHttpBot } from '../helpers/http-bot';
import { pollsPass as monitorPollsPass } from '../helpers/monitor';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { startSlackStandin, type SlackStandin } from '../helpers/slack-standin';

const ALERTS = 'C0WATCH';
const TOPOLOGY = 'monw';
const prefix = `t-monw-${process.pid}`;

let fleet: Fleet;
let standin: SlackStandin;
let config: RecoverConfig;
const bots: SlackBot[] = [];
let redis: Redis;

function withMonitor(base: unknown, name: string, intervalMs = 300): Record<string, unknown> {
  const t = structuredClone((base as { topologies: Record<string, unknown>[] }).topologies[0]!);
  return {
    ...t,
    name,
    monitor: { intervalMs, jitterMs: 0, alertChannel: ALERTS, thresholds: { unreachableForMs: 1000 } },
  };
}

beforeAll(async () => {
  fleet = await testFleet(
    TOPOLOGY,
    [masterNode('mysql'), slaveNode('rls-1', 'postgres', 1042), slaveNode('rls-2', 'mysql', 1042)],
    'monw',
  );
  standin = await startSlackStandin();
  config = RecoverConfig.parse({ topologies: [withMonitor(fleet.config, TOPOLOGY)] });
  redis = new Redis(serviceUrls().redisUrl);
  for (let i = 0; i < 2; i++) bots.push(await startBot());
});

afterAll(async () => {
  for (const b of bots) await b.stop();
  redis?.disconnect();
  await standin?.close();
  await dropPrefix(prefix);
  await fleet?.destroy();
  await expectNoLeakedHandles(1500);
});

async function startBot(): Promise<SlackBot> {
  const { bot } = await startHttpBot({
    config,
    slackApiUrl: standin.url,
    prefix,
    env: fleet.env,
    signingSecret: 'monw-signing-secret-0123456789',
    botToken: 'xoxb-monw',
  });
  return bot;
}

const topLevel = (text: string) =>
  standin
    .callsTo('chat.postMessage')
    .filter(
      (c) => c.args.channel === ALERTS && !c.args.thread_ts && blocksAsText(c.args.blocks).includes(text),
    );
const pollsPass = (n: number) => monitorPollsPass(redis, prefix, TOPOLOGY, n);

it('two bot instances: one Job Scheduler, one alert', async () => {
  expect((await bots[0]!.monitor.queue.getJobSchedulers(0, -1)).map((s) => s.key)).toEqual([
    schedulerId(TOPOLOGY),
  ]);
  await insertReplicatorIdRows(fleet, 'rls-2', 1);
  await standin.waitFor(() => topLevel('ReplicatorIdTable on rls-2 has 1 row')[0], 15_000);
  await pollsPass(8);
  expect(topLevel('ReplicatorIdTable on rls-2')).toHaveLength(1);
}, 60_000);

it('a sequence going backwards opens the watchdog alert; under a Recover run’s lease it does not', async () => {
  const lease = new TopologyLease(redis, { prefix });
  const held = await lease.acquire(TOPOLOGY, `${TOPOLOGY}-run-1`, 'alice');
  expect(held.ok).toBe(true);
  await setReplicator(fleet, 'rls-1', { remote: 1030 });
  await pollsPass(3);
  expect(topLevel('sequence went backwards')).toHaveLength(0);
  if (held.ok) await lease.release(TOPOLOGY, held.lease.runId, held.lease.token);
  await pollsPass(2);

  await setReplicator(fleet, 'rls-2', { remote: 1000 });
  const alert = await standin.waitFor(() => topLevel("rls-2's sequence went backwards")[0], 15_000);
  expect(blocksAsText(alert.args.blocks)).toContain('1042 → 1000, with no Recover run behind it');
}, 60_000);

it('a poll sends 3 statements to a healthy node (4 with ReplicatorIdTable rows) on at most one connection', async () => {
  const dbs = new MonitorDbs(fleet.env);
  const topology = config.topologies[0]!;
  try {
    await inspectTopology(topology, dbs);
    expect(['mls', 'rls-1', 'rls-2'].map((n) => dbs.queriesTo(TOPOLOGY, n))).toEqual([3, 3, 4]);
    expect(Object.values(dbs.openConnections()).every((n) => n <= 1)).toBe(true);
    // The server agrees: this process holds at most one session per node database per pool.
    const db = fleet.databases.find((d) => d.node === 'rls-1')!.database;
    const admin = new pg.Client({ connectionString: serviceUrls().fleetPostgresUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'recover'",
        [db],
      );
      // Two bots and this probe: at most one each.
      expect(Number(rows[0]!.n)).toBeLessThanOrEqual(3);
    } finally {
      await admin.end();
    }
  } finally {
    await dbs.closeAll();
  }
});

it('schedules follow the config: a new topology adds its scheduler, a removed one loses it', async () => {
  const queue = new Queue(MONITOR_QUEUE, {
    connection: redisOptionsFromUrl(serviceUrls().redisUrl),
    prefix: `${prefix}-sync`,
  });
  try {
    const two = RecoverConfig.parse({
      topologies: [withMonitor(fleet.config, 'alpha', 60_000), withMonitor(fleet.config, 'beta', 60_000)],
    });
    await syncMonitorSchedules(queue, two);
    await syncMonitorSchedules(queue, two); // a second instance starting: still one each
    expect((await queue.getJobSchedulers(0, -1)).map((s) => s.key).sort()).toEqual([
      'monitor-alpha',
      'monitor-beta',
    ]);
    const sync = await syncMonitorSchedules(queue, RecoverConfig.parse({ topologies: [two.topologies[0]] }));
    expect(sync.removed).toEqual(['monitor-beta']);
    expect((await queue.getJobSchedulers(0, -1)).map((s) => s.key)).toEqual(['monitor-alpha']);
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
});
