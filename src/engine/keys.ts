import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Redis key layout shared by the lease, the ledger and the audit log. The ledger's fencing
 * scripts read the lease hash directly, so both must agree on these names.
 */
export const DEFAULT_PREFIX = 'recover';

export type Clock = () => Date;

export interface StoreOptions {
  /**
   * Every key starts with `${prefix}:`; tests use a unique prefix per file. Do not also set
   * ioredis `keyPrefix`: scripts build some keys from ARGV, which it would not prefix.
   */
  prefix?: string;
  clock?: Clock;
}

/** The topology lease a write must still hold; structurally the engine's Fence. */
export interface Fence {
  topology: string;
  token: number;
}

export class RecoverKeys {
  constructor(readonly prefix: string = DEFAULT_PREFIX) {}

  /** hash: LeaseHolder fields */
  lease(topology: string): string {
    return `${this.prefix}:lease:${topology}`;
  }
  /** string counter: INCR per acquisition or takeover, never reset */
  leaseToken(topology: string): string {
    return `${this.prefix}:lease-token:${topology}`;
  }
  /** hash: RunRecord fields */
  run(runId: string): string {
    return `${this.prefix}:run:${runId}`;
  }
  /** string: the Plan as JSON */
  plan(runId: string): string {
    return `${this.prefix}:run:${runId}:plan`;
  }
  /** list: step ids in plan order */
  stepIds(runId: string): string {
    return `${this.prefix}:run:${runId}:step-ids`;
  }
  /** prefix of the per-step hashes (`…:step:<stepId>`: StepRecord fields) */
  stepPrefix(runId: string): string {
    return `${this.prefix}:run:${runId}:step:`;
  }
  step(runId: string, stepId: string): string {
    return this.stepPrefix(runId) + stepId;
  }
  /** zset: run ids scored by createdAt (ms); all topologies, or one */
  runs(topology?: string): string {
    return topology === undefined ? `${this.prefix}:runs` : `${this.prefix}:runs:${topology}`;
  }
  /** hash: gate → number of the gate's latest approval */
  approvals(runId: string): string {
    return `${this.prefix}:run:${runId}:approvals`;
  }
  /** string counter numbering a run's approvals */
  approvalSeq(runId: string): string {
    return `${this.prefix}:run:${runId}:approval-seq`;
  }
  /** prefix of the per-approval hashes (`…:approval:<n>`: Approval fields + `consumed:<stepId>`) */
  approvalPrefix(runId: string): string {
    return `${this.prefix}:run:${runId}:approval:`;
  }
  /** stream: one run's audit events */
  audit(runId: string): string {
    return `${this.prefix}:audit:${runId}`;
  }
  /** stream: every run's audit events, capped */
  auditAll(): string {
    return `${this.prefix}:audit`;
  }
}

/**
 * Hash fields hold JSON values (a string as `"x"`, null as `null`, numbers bare), so Lua can
 * compare and set them as opaque strings and never has to decode a record.
 */
export function toFields(record: object): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(record)) if (v !== undefined) out.push(k, JSON.stringify(v));
  return out;
}

/** A hash as returned by HGETALL (ioredis object, or a script's flat array) → decoded fields. */
export function fromFields(raw: Record<string, string> | unknown[]): Record<string, unknown> {
  const entries: [string, string][] = Array.isArray(raw)
    ? Array.from({ length: raw.length / 2 }, (_, i) => [String(raw[2 * i]), String(raw[2 * i + 1])])
    : Object.entries(raw);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) out[k] = JSON.parse(v);
  return out;
}

/** A Lua script run by EVALSHA, loaded with EVAL the first time a server has not seen it. */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
