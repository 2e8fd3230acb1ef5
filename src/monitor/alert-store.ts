import type { Redis } from 'ioredis';
import { fromFields, LuaScript, toFields } from '../engine/keys';
import type { Observation } from './types';

/** Redis names of the monitor's state; same `${prefix}:` convention as src/engine/keys.ts. */
export class MonitorKeys {
  constructor(readonly prefix: string) {}
  /** hash: AlertRecord fields (JSON values); kept for the flap window after it resolves */
  alert(topology: string, key: string): string {
    return `${this.prefix}:monitor:alert:${topology}:${key}`;
  }
  /** set: keys of the topology's open alerts */
  open(topology: string): string {
    return `${this.prefix}:monitor:open:${topology}`;
  }
  /** string: MonitorMemory as JSON */
  memory(topology: string): string {
    return `${this.prefix}:monitor:memory:${topology}`;
  }
  /** string with a TTL: one poll of a topology at a time, across every bot instance */
  pollLock(topology: string): string {
    return `${this.prefix}:monitor:poll:${topology}`;
  }
}

export interface AlertRecord {
  topology: string;
  key: string;
  channel: string;
  state: 'open' | 'resolved';
  /** When the condition began (the first episode's, kept across flaps). */
  since: string;
  lastSeen: string;
  /** The Slack message; null until the instance that claimed the alert has posted it. */
  ts: string | null;
  claimedMs: number;
  ackedBy: string | null;
  ackedAt: string | null;
  resolvedAt: string | null;
  /** Times the condition cleared and came back within the flap window. */
  flaps: number;
  detail: Observation;
  /** Digest of what the message shows now: an update is sent when it changes… */
  digest: string;
  /** …or when the message was last shown this long ago (refreshMs): "last seen" moves on. */
  shownAt: string | null;
}

export type Claim = { kind: 'new' | 'reopened' | 'open'; alert: AlertRecord };

// KEYS: alert hash, open set. ARGV: now ms, lastSeen (JSON), stale ms, key, field/value pairs of a new record.
const CLAIM = new LuaScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if state == '"open"' then
  local ts = redis.call('HGET', KEYS[1], 'ts')
  local claimed = tonumber(redis.call('HGET', KEYS[1], 'claimedMs') or '0')
  redis.call('HSET', KEYS[1], 'lastSeen', ARGV[2])
  -- Claimed but never posted (that instance died mid-post): claim it again.
  if (not ts or ts == 'null') and tonumber(ARGV[1]) - claimed > tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'claimedMs', ARGV[1])
    return {'new', redis.call('HGETALL', KEYS[1])}
  end
  return {'open', redis.call('HGETALL', KEYS[1])}
end
if state == '"resolved"' then
  redis.call('PERSIST', KEYS[1])
  redis.call('HSET', KEYS[1], 'state', '"open"', 'resolvedAt', 'null', 'lastSeen', ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'flaps', 1)
  redis.call('SADD', KEYS[2], ARGV[4])
  return {'reopened', redis.call('HGETALL', KEYS[1])}
end
redis.call('DEL', KEYS[1])
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'claimedMs', ARGV[1])
redis.call('SADD', KEYS[2], ARGV[4])
return {'new', redis.call('HGETALL', KEYS[1])}
`);

// KEYS: alert hash, open set. ARGV: resolvedAt (JSON), flap window ms, key.
const RESOLVE = new LuaScript(`
redis.call('SREM', KEYS[2], ARGV[3])
if redis.call('HGET', KEYS[1], 'state') ~= '"open"' then return false end
redis.call('HSET', KEYS[1], 'state', '"resolved"', 'resolvedAt', ARGV[1])
local all = redis.call('HGETALL', KEYS[1])
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) else redis.call('DEL', KEYS[1]) end
return all
`);

// KEYS: alert hash. ARGV: user (JSON), at (JSON).
const ACKNOWLEDGE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'state') ~= '"open"' then return {0, redis.call('HGETALL', KEYS[1])} end
local by = redis.call('HGET', KEYS[1], 'ackedBy')
if by and by ~= 'null' then return {0, redis.call('HGETALL', KEYS[1])} end
redis.call('HSET', KEYS[1], 'ackedBy', ARGV[1], 'ackedAt', ARGV[2])
return {1, redis.call('HGETALL', KEYS[1])}
`);

/**
 * Alert state shared by every bot instance: which conditions are open, their Slack message, who
 * acknowledged them. Opening is one atomic claim, so two workers seeing the same condition make
 * one post, and a restarted bot finds its alerts where it left them.
 */
export class AlertStore {
  readonly keys: MonitorKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    /** An alert claimed but not posted for this long is claimed again (its poster died). */
    private readonly staleClaimMs = 60_000,
  ) {
    this.keys = new MonitorKeys(prefix);
  }

  async claim(topology: string, channel: string, o: Observation, now: Date): Promise<Claim> {
    const record: Omit<AlertRecord, 'claimedMs'> = {
      topology,
      key: o.key,
      channel,
      state: 'open',
      since: o.since,
      lastSeen: now.toISOString(),
      ts: null,
      ackedBy: null,
      ackedAt: null,
      resolvedAt: null,
      flaps: 0,
      detail: o,
      digest: '',
      shownAt: null,
    };
    const [kind, raw] = (await CLAIM.run(
      this.redis,
      [this.keys.alert(topology, o.key), this.keys.open(topology)],
      [now.getTime(), JSON.stringify(now.toISOString()), this.staleClaimMs, o.key, ...toFields(record)],
    )) as [Claim['kind'], string[]];
    return { kind, alert: toRecord(raw) };
  }

  async get(topology: string, key: string): Promise<AlertRecord | null> {
    const raw = await this.redis.hgetall(this.keys.alert(topology, key));
    return Object.keys(raw).length === 0 ? null : toRecord(raw);
  }

  async openKeys(topology: string): Promise<string[]> {
    return (await this.redis.smembers(this.keys.open(topology))).sort();
  }

  /** After posting: the message to update from now on. */
  async setTs(topology: string, key: string, ts: string): Promise<void> {
    await this.redis.hset(this.keys.alert(topology, key), 'ts', JSON.stringify(ts));
  }

  /** Posting failed: let the next poll claim it at once instead of after the stale period. */
  async releaseClaim(topology: string, key: string): Promise<void> {
    await this.redis.hset(this.keys.alert(topology, key), 'claimedMs', '0');
  }

  /** What the message now shows. */
  async saveShown(
    topology: string,
    key: string,
    detail: Observation,
    digest: string,
    at: Date,
  ): Promise<void> {
    const shownAt = at.toISOString();
    await this.redis.hset(this.keys.alert(topology, key), ...toFields({ detail, digest, shownAt }));
  }

  /** The record as it was when it resolved, or null when it was not open. */
  async resolve(topology: string, key: string, now: Date, flapWindowMs: number): Promise<AlertRecord | null> {
    const raw = (await RESOLVE.run(
      this.redis,
      [this.keys.alert(topology, key), this.keys.open(topology)],
      [JSON.stringify(now.toISOString()), flapWindowMs, key],
    )) as string[] | null;
    return raw ? toRecord(raw) : null;
  }

  /** First acknowledgement wins; later clicks return acknowledged: false and the record as it is. */
  async acknowledge(
    topology: string,
    key: string,
    user: string,
    now: Date,
  ): Promise<{ acknowledged: boolean; alert: AlertRecord | null }> {
    const [done, raw] = (await ACKNOWLEDGE.run(
      this.redis,
      [this.keys.alert(topology, key)],
      [JSON.stringify(user), JSON.stringify(now.toISOString())],
    )) as [number, string[]];
    return { acknowledged: done === 1, alert: raw.length > 0 ? toRecord(raw) : null };
  }
}

function toRecord(raw: Record<string, string> | unknown[]): AlertRecord {
  const record = fromFields(raw) as unknown as AlertRecord;
  return { ...record, shownAt: record.shownAt ?? null }; // alerts stored before refreshMs existed
}
