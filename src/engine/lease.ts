import type { Redis } from 'ioredis';
import { fromFields, LuaScript, RecoverKeys, type Clock, type StoreOptions } from './keys';
import type { LeaseAcquire, LeaseHolder } from './types';

/** A write carried a fencing token that is no longer the topology's current one. */
export class StaleTokenError extends Error {
  readonly code = 'STALE_TOKEN';
  constructor(
    readonly topology: string,
    readonly token: number,
    /** The token now in force for the topology; null when there is none. */
    readonly current: number | null,
  ) {
    super(
      `lease token ${token} for ${topology} is stale (${current === null ? 'the run no longer holds the lease' : `current token is ${current}`}): this worker must stop writing`,
    );
    this.name = 'StaleTokenError';
  }
}

// All arguments are JSON-encoded field values (see toFields); the token is a bare integer.
const ACQUIRE = new LuaScript(`
local held = redis.call('HGET', KEYS[1], 'runId')
if held then
  if held == ARGV[1] then return {1, redis.call('HGETALL', KEYS[1])} end
  return {0, redis.call('HGETALL', KEYS[1])}
end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'topology', ARGV[3], 'runId', ARGV[1], 'requester', ARGV[2],
  'since', ARGV[4], 'heartbeatAt', ARGV[4], 'token', tostring(token), 'busy', 'false')
return {1, redis.call('HGETALL', KEYS[1])}
`);

const TAKE_OVER = new LuaScript(`
if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'token', tostring(token), 'heartbeatAt', ARGV[2])
return redis.call('HGETALL', KEYS[1])
`);

/**
 * ARGV runId, now, now (ms), staleAfterMs. Refuses ({'busy', holder}) while another worker is
 * busy with the run and not stale; otherwise fences it out and marks this worker busy, stale
 * after staleAfterMs without a heartbeat.
 */
const CLAIM = new LuaScript(`
if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] then return {'gone'} end
if redis.call('HGET', KEYS[1], 'busy') == 'true' and tonumber(redis.call('HGET', KEYS[1], 'staleAt') or '0') > tonumber(ARGV[3]) then
  return {'busy', redis.call('HGETALL', KEYS[1])}
end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'token', tostring(token), 'heartbeatAt', ARGV[2], 'busy', 'true',
  'staleAfterMs', ARGV[4], 'staleAt', tostring(tonumber(ARGV[3]) + tonumber(ARGV[4])))
return {'claimed', redis.call('HGETALL', KEYS[1])}
`);

/** ARGV runId, token, now: the worker is done with the run for now (it waits on a human or a job). */
const IDLE = new LuaScript(`
local h = redis.call('HMGET', KEYS[1], 'runId', 'token')
if h[1] ~= ARGV[1] or h[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'busy', 'false', 'heartbeatAt', ARGV[3])
return 1
`);

/** ARGV runId, token, now, now (ms): pushes staleAt on by the staleAfterMs the claim set. */
const HEARTBEAT = new LuaScript(`
local h = redis.call('HMGET', KEYS[1], 'runId', 'token', 'staleAfterMs')
if h[1] ~= ARGV[1] or h[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'heartbeatAt', ARGV[3], 'staleAt', tostring(tonumber(ARGV[4]) + tonumber(h[3] or '0')))
return 1
`);

const RELEASE = new LuaScript(`
local h = redis.call('HMGET', KEYS[1], 'runId', 'token')
if h[1] ~= ARGV[1] or h[2] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`);

export type LeaseClaim =
  { kind: 'claimed'; lease: LeaseHolder } | { kind: 'busy'; holder: LeaseHolder } | { kind: 'gone' };

/**
 * One active run per topology. No TTL: a run waiting for approval keeps its lease until it
 * ends. `busy` and heartbeatAt say whether a worker is working on the run right now; claim
 * waits for a live one and fences a dead one out, so one worker at a time moves a run.
 */
export class TopologyLease {
  private readonly keys: RecoverKeys;
  private readonly clock: Clock;

  constructor(
    private readonly redis: Redis,
    options: StoreOptions = {},
  ) {
    this.keys = new RecoverKeys(options.prefix);
    this.clock = options.clock ?? (() => new Date());
  }

  /** Idempotent for the same run (returns the lease as it is, same token). */
  async acquire(topology: string, runId: string, requester: string): Promise<LeaseAcquire> {
    const now = this.clock().toISOString();
    const reply = (await ACQUIRE.run(
      this.redis,
      [this.keys.lease(topology), this.keys.leaseToken(topology)],
      [JSON.stringify(runId), JSON.stringify(requester), JSON.stringify(topology), JSON.stringify(now)],
    )) as [number, string[]];
    const lease = leaseHolderFrom(reply[1]);
    return reply[0] === 1 ? { ok: true, lease } : { ok: false, holder: lease };
  }

  /** A new worker resuming the same run: a fresh token, so the old worker's writes fail. */
  async takeOver(topology: string, runId: string): Promise<LeaseHolder | null> {
    const reply = (await TAKE_OVER.run(
      this.redis,
      [this.keys.lease(topology), this.keys.leaseToken(topology)],
      [JSON.stringify(runId), JSON.stringify(this.clock().toISOString())],
    )) as string[] | null;
    return reply ? leaseHolderFrom(reply) : null;
  }

  /**
   * For a worker about to move the run: 'busy' while another worker is on it and beat within
   * staleAfterMs (try later), 'gone' when the run no longer holds the topology.
   */
  async claim(topology: string, runId: string, staleAfterMs: number): Promise<LeaseClaim> {
    const now = this.clock();
    const reply = (await CLAIM.run(
      this.redis,
      [this.keys.lease(topology), this.keys.leaseToken(topology)],
      [JSON.stringify(runId), JSON.stringify(now.toISOString()), now.getTime(), staleAfterMs],
    )) as [string, unknown[]?];
    if (reply[0] === 'claimed') return { kind: 'claimed', lease: leaseHolderFrom(reply[1]!) };
    if (reply[0] === 'busy') return { kind: 'busy', holder: leaseHolderFrom(reply[1]!) };
    return { kind: 'gone' };
  }

  /** The claiming worker has finished its piece: the next job may claim at once. */
  async idle(topology: string, runId: string, token: number): Promise<boolean> {
    const reply = await IDLE.run(
      this.redis,
      [this.keys.lease(topology)],
      [JSON.stringify(runId), String(token), JSON.stringify(this.clock().toISOString())],
    );
    return reply === 1;
  }

  /** A worker is on the run and has beaten recently enough (as its claim defined it). */
  isLive(holder: LeaseHolder): boolean {
    return holder.busy && holder.staleAt !== null && holder.staleAt > this.clock().getTime();
  }

  async heartbeat(topology: string, runId: string, token: number): Promise<boolean> {
    const now = this.clock();
    const reply = await HEARTBEAT.run(
      this.redis,
      [this.keys.lease(topology)],
      [JSON.stringify(runId), String(token), JSON.stringify(now.toISOString()), now.getTime()],
    );
    return reply === 1;
  }

  async release(topology: string, runId: string, token: number): Promise<boolean> {
    const reply = await RELEASE.run(
      this.redis,
      [this.keys.lease(topology)],
      [JSON.stringify(runId), String(token)],
    );
    return reply === 1;
  }

  async current(topology: string): Promise<LeaseHolder | null> {
    const raw = await this.redis.hgetall(this.keys.lease(topology));
    return Object.keys(raw).length === 0 ? null : leaseHolderFrom(raw);
  }

  /** Throws StaleTokenError unless (runId, token) still hold the topology. */
  async assertFresh(topology: string, runId: string, token: number): Promise<void> {
    const holder = await this.current(topology);
    if (!holder || holder.runId !== runId || holder.token !== token)
      throw new StaleTokenError(topology, token, holder?.token ?? null);
  }
}

/** A lease hash as HGETALL returns it → LeaseHolder. */
export function leaseHolderFrom(raw: Record<string, string> | unknown[]): LeaseHolder {
  const f = fromFields(raw);
  return {
    topology: f.topology as string,
    runId: f.runId as string,
    requester: f.requester as string,
    since: f.since as string,
    heartbeatAt: f.heartbeatAt as string,
    token: f.token as number,
    busy: f.busy === true,
    staleAt: typeof f.staleAt === 'number' ? f.staleAt : null,
  };
}
