import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Topology } from '../config/topology';
import type { StatusReport } from '../status/inspect';
import { AlertStore, type AlertRecord } from './alert-store';
import { flavourOf } from '../flavours/registry';
import { monitorPlan, type MonitorPlan } from './settings';
import { MonitorMemory, emptyMemory, type Observation } from './types';

/** Where alerts are said. Slack (src/slack/alert-sink.ts) or a terminal; the monitor does not care. */
export interface AlertSink {
  /** Post a new alert; resolves with its message id (Slack ts). */
  opened(channel: string, alert: AlertRecord): Promise<string>;
  /** Update the alert's message in place. */
  changed(channel: string, ts: string, alert: AlertRecord): Promise<void>;
  /** The condition came back within the flap window: same message, a note in its thread. */
  returned(channel: string, ts: string, alert: AlertRecord): Promise<void>;
  /** The condition cleared: a reply in its thread, the message marked resolved. */
  resolved(channel: string, ts: string, alert: AlertRecord): Promise<void>;
}

export interface MonitorDeps {
  redis: Redis;
  store: AlertStore;
  topology(name: string): Topology | undefined;
  inspect(topology: Topology): Promise<StatusReport>;
  /** True when a Recover run holds the topology now or has changed since `sinceIso`. */
  runActivity(topology: string, sinceIso: string | null): Promise<boolean>;
  sink: AlertSink;
  clock(): Date;
}

export interface PollOutcome {
  topology: string;
  skipped?: 'not-monitored' | 'busy' | 'unwatched';
  opened: string[];
  updated: string[];
  reopened: string[];
  resolved: string[];
  active: string[];
  errors: string[];
}

/** Some alerts could not be said (Slack refused or was away); the rest of the poll went through. */
export class MonitorPollError extends Error {
  readonly code = 'MONITOR_POLL';
  constructor(
    readonly topology: string,
    readonly problems: string[],
  ) {
    super(`monitor poll of ${topology}: ${problems.join('; ')}`);
    this.name = 'MonitorPollError';
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

// Release the poll lock only if it is still ours (a slow poll may have outlived its TTL).
const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * One poll of one topology: probe every node, evaluate the conditions against what earlier polls
 * saw, then open, update or resolve alerts. At most one poll per topology runs at a time across
 * every instance (a Redis lock); a poll that finds it held is skipped, not queued.
 */
export async function pollTopology(deps: MonitorDeps, name: string): Promise<PollOutcome> {
  const outcome: PollOutcome = {
    topology: name,
    opened: [],
    updated: [],
    reopened: [],
    resolved: [],
    active: [],
    errors: [],
  };
  const topology = deps.topology(name);
  const plan = topology ? monitorPlan(topology) : null;
  if (!topology || !plan) return { ...outcome, skipped: 'not-monitored' };
  const keys = deps.store.keys;
  const lock = keys.pollLock(name);
  const token = randomUUID();
  const ttl = topology.probe.timeoutMs + 60_000;
  if ((await deps.redis.set(lock, token, 'PX', ttl, 'NX')) !== 'OK') return { ...outcome, skipped: 'busy' };
  try {
    const memory = await loadMemory(deps.redis, keys.memory(name));
    const report = await deps.inspect(topology);
    const runExplains = await deps.runActivity(name, memory.lastPollAt);
    const now = deps.clock();
    const watch = flavourOf(topology.flavour).monitor;
    if (!watch) return { ...outcome, skipped: 'unwatched' };
    const evaluation = watch({ report, memory, thresholds: plan.thresholds, now, runExplains, topology });
    outcome.active = evaluation.active.map((o) => o.key);
    for (const o of evaluation.active) {
      // One alert Slack refuses must not silence the others: note it, go on, fail the job at the end.
      await raise(deps, plan, o, now, outcome).catch((err: unknown) => outcome.errors.push(errorText(err)));
    }
    const open = await deps.store.openKeys(name);
    const keep = new Set([...outcome.active, ...evaluation.indeterminate]);
    for (const key of open.filter((k) => !keep.has(k))) {
      const alert = await deps.store.resolve(name, key, now, plan.thresholds.flapWindowMs);
      if (!alert) continue;
      outcome.resolved.push(key);
      if (alert.ts)
        await deps.sink
          .resolved(alert.channel, alert.ts, alert)
          .catch((err: unknown) => outcome.errors.push(errorText(err)));
    }
    await deps.redis.set(keys.memory(name), JSON.stringify(evaluation.memory));
    if (outcome.errors.length > 0) throw new MonitorPollError(name, outcome.errors);
    return outcome;
  } finally {
    await deps.redis.eval(UNLOCK, 1, lock, token);
  }
}

async function raise(
  deps: MonitorDeps,
  plan: MonitorPlan,
  o: Observation,
  now: Date,
  outcome: PollOutcome,
): Promise<void> {
  const { store, sink } = deps;
  const claim = await store.claim(plan.topology, plan.channel, o, now);
  const alert: AlertRecord = { ...claim.alert, detail: o };
  const digest = digestOf(alert);
  if (claim.kind === 'new') {
    const ts = await sink.opened(alert.channel, alert).catch(async (err: unknown) => {
      await store.releaseClaim(plan.topology, o.key); // the next poll (here or elsewhere) posts it
      throw err;
    });
    await store.setTs(plan.topology, o.key, ts);
    await store.saveShown(plan.topology, o.key, o, digest, now);
    outcome.opened.push(o.key);
    return;
  }
  // Claimed by another instance that has not posted yet: that post will show this state.
  if (!alert.ts) return;
  if (claim.kind === 'reopened') {
    await sink.returned(alert.channel, alert.ts, alert);
    await store.saveShown(plan.topology, o.key, o, digest, now);
    outcome.reopened.push(o.key);
    return;
  }
  // Acknowledged: silenced until it resolves. Unchanged: the message is refreshed in place every
  // refreshMs ("last seen" moves, so people see the monitor still sees it), never a new post.
  if (alert.ackedBy) return;
  const due = !alert.shownAt || now.getTime() - Date.parse(alert.shownAt) >= plan.refreshMs;
  if (alert.digest === digest && !due) return;
  await sink.changed(alert.channel, alert.ts, alert);
  await store.saveShown(plan.topology, o.key, o, digest, now);
  outcome.updated.push(o.key);
}

/** What the message shows, minus the "last seen" time: an update goes out only when this changes. */
function digestOf(a: AlertRecord): string {
  const shown = { detail: a.detail, state: a.state, flaps: a.flaps, ackedBy: a.ackedBy };
  return createHash('sha256').update(JSON.stringify(shown)).digest('hex').slice(0, 16);
}

async function loadMemory(redis: Redis, key: string): Promise<MonitorMemory> {
  const raw = await redis.get(key);
  if (!raw) return emptyMemory();
  const parsed = MonitorMemory.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : emptyMemory();
}
