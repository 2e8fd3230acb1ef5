/**
 * bench:monitor — 100 topologies × 5 nodes on the local PostgreSQL and MariaDB, watched by one
 * real bot (Redis, BullMQ, the Slack stand-in at the wire). Measures the alert latency from a row
 * committed into a slave's ReplicatorIdTable to the chat.postMessage arriving at the stand-in,
 * against the configured interval, and the statements per minute the fleet receives.
 * Target: p99 latency ≤ interval + 1 s.
 */
import { Redis } from 'ioredis';
import { startSlackBot } from '../src/app/slack-bot';
import { serviceUrls } from '../src/config/env';
import { RecoverConfig } from '../src/config/topology';
import {
  clearReplicatorIdRows,
  createFleet,
  insertReplicatorIdRows,
  type Fleet,
} from '../src/flavours/coremedia/fleet/fleet';
import { Scenario } from '../src/flavours/coremedia/fleet/scenario';
import { MonitorMemory } from '../src/monitor/types';
import { parseSlackSettings } from '../src/slack/settings';
import { createLogger } from '../src/util/logger';
import { closedPort } from '../test/helpers/blackhole';
import { dropPrefix } from '../test/helpers/engine';
import { startSlackStandin } from '../test/helpers/slack-standin';

const TOPOLOGIES = 100;
const INTERVAL_MS = 2000;
const SAMPLES = 60;
const LANES = 4;
const LOAD_WINDOW_MS = 30_000;
const prefix = `bench-monitor-${process.pid}`;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number) => Math.round(x * 10) / 10;
const ratio = (x: number) => Math.round(x * 1000) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A master and four slaves: 1 PostgreSQL + 4 MariaDB (PostgreSQL allows 100 connections here). */
function scenario(i: number): Scenario {
  const slave = (name: string, engine: 'postgres' | 'mysql') => ({
    name,
    engine,
    replicator: { remote: 1042 },
    changelog: { last: 1042, count: 5 },
  });
  return Scenario.parse({
    name: `bm-${i}`,
    master: 'mls',
    probeTimeoutMs: 2000,
    nodes: [
      { name: 'mls', engine: 'postgres', changelog: { last: 1050, count: 5 } },
      slave('rls-1', 'mysql'),
      slave('rls-2', 'mysql'),
      slave('rls-3', 'mysql'),
      slave('rls-4', 'mysql'),
    ],
  });
}

async function createFleets(): Promise<Fleet[]> {
  const fleets: Fleet[] = [];
  const queue = Array.from({ length: TOPOLOGIES }, (_, i) => i);
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift())
        fleets[i] = await createFleet(scenario(i), { prefix: `bm_${i}` });
    }),
  );
  return fleets;
}

async function main() {
  const started = Date.now();
  const fleets = await createFleets();
  const setupMs = Date.now() - started;
  const standin = await startSlackStandin();
  const redis = new Redis(serviceUrls().redisUrl);
  const config = RecoverConfig.parse({
    topologies: fleets.map((f, i) => ({
      ...f.config.topologies[0]!,
      // Jitter over the whole interval: 100 topologies' polls spread evenly.
      monitor: { intervalMs: INTERVAL_MS, jitterMs: INTERVAL_MS, alertChannel: `C0BENCH${i}` },
    })),
  });
  const port = await closedPort();
  const bot = await startSlackBot({
    config,
    settings: parseSlackSettings({
      SLACK_MODE: 'http',
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_SIGNING_SECRET: 'bench-signing-secret-0123456789',
      PORT: String(port),
      SLACK_API_URL: standin.url,
    }),
    redisUrl: serviceUrls().redisUrl,
    prefix,
    env: {},
    log: createLogger('silent'),
    monitorConcurrency: 16,
  });
  const polls = async () => {
    const raw = await redis.mget(...config.topologies.map((t) => bot.monitor.store.keys.memory(t.name)));
    return raw.map((r) => (r ? MonitorMemory.parse(JSON.parse(r)).polls : 0));
  };
  let maxOpenPerNode = 0;
  const sampler = setInterval(() => {
    for (const n of Object.values(bot.monitor.dbs.openConnections()))
      maxOpenPerNode = Math.max(maxOpenPerNode, n);
  }, 20);
  try {
    // Warm up: every topology polled at least twice.
    while (Math.min(...(await polls())) < 2) await sleep(200);

    // Load: statements the fleet received from the monitor over a window, with nothing wrong.
    const q0 = bot.monitor.dbs.queries;
    const p0 = (await polls()).reduce((a, b) => a + b, 0);
    const t0 = Date.now();
    await sleep(LOAD_WINDOW_MS);
    const minutes = (Date.now() - t0) / 60_000;
    const queriesPerMinute = (bot.monitor.dbs.queries - q0) / minutes;
    const pollsPerMinute = ((await polls()).reduce((a, b) => a + b, 0) - p0) / minutes;

    // Latency: each sample on its own topology (a returning condition would update, not post).
    const latencies: number[] = [];
    const next = Array.from({ length: SAMPLES }, (_, i) => i);
    await Promise.all(
      Array.from({ length: LANES }, async () => {
        for (let i = next.shift(); i !== undefined; i = next.shift()) {
          await sleep(Math.random() * INTERVAL_MS); // a random phase against the topology's schedule
          await insertReplicatorIdRows(fleets[i]!, 'rls-2', 1);
          const committed = Date.now();
          const post = await standin.waitFor(
            () =>
              standin
                .callsTo('chat.postMessage')
                .find((c) => c.args.channel === `C0BENCH${i}` && !c.args.thread_ts && c.at >= committed),
            INTERVAL_MS * 5,
          );
          latencies.push(post.at - committed);
          await clearReplicatorIdRows(fleets[i]!, 'rls-2');
        }
      }),
    );
    const target = INTERVAL_MS + 1000;
    const nodes = TOPOLOGIES * 5;
    const result = {
      benchmark: 'monitor',
      node: process.version,
      topologies: TOPOLOGIES,
      nodesPerTopology: 5,
      engines: { postgres: TOPOLOGIES, mariadb: TOPOLOGIES * 4 },
      intervalMs: INTERVAL_MS,
      jitterMs: INTERVAL_MS,
      setupMs,
      latency: {
        samples: latencies.length,
        medianMs: round(pct(latencies, 50)),
        p99Ms: round(pct(latencies, 99)),
        maxMs: round(Math.max(...latencies)),
        medianOverInterval: ratio(pct(latencies, 50) / INTERVAL_MS),
        p99OverInterval: ratio(pct(latencies, 99) / INTERVAL_MS),
      },
      load: {
        windowMs: LOAD_WINDOW_MS,
        pollsPerMinute: Math.round(pollsPerMinute),
        expectedPollsPerMinute: Math.round((TOPOLOGIES * 60_000) / INTERVAL_MS),
        queriesPerMinute: Math.round(queriesPerMinute),
        queriesPerNodePerPoll: ratio(queriesPerMinute / pollsPerMinute / 5),
        expectedQueriesPerMinute: Math.round((nodes * 3 * 60_000) / INTERVAL_MS),
        maxOpenConnectionsPerNode: maxOpenPerNode,
      },
      targetP99Ms: target,
      pass: pct(latencies, 99) <= target && maxOpenPerNode <= 1,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    clearInterval(sampler);
    await bot.stop();
    await standin.close();
    redis.disconnect();
    await dropPrefix(prefix);
    for (const f of fleets) await f?.destroy().catch(() => undefined);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
