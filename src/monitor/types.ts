import { z } from 'zod';

export const ConditionKind = z.enum([
  'replicator-id-rows',
  'divergence',
  'unreachable',
  'sequence-rollback',
  'dedicated-changed',
  // postgres-streaming
  'two-primaries',
  'not-streaming',
  'archiver-failing',
  'lag',
  'no-warm-spare',
  // tungsten
  'replicator-error',
  'replicator-suspect',
  'cluster-unknown',
  // multisite
  'restoration-needed',
  'restoration-open',
  'packets-stuck',
]);
export type ConditionKind = z.infer<typeof ConditionKind>;

/** The runbook a condition's "Plan recovery" button asks for. */
export const RunbookRef = z.object({ name: z.string(), target: z.string().nullable() });
export type RunbookRef = z.infer<typeof RunbookRef>;

/** One open condition as one poll saw it: everything its alert message shows. */
export const Observation = z.object({
  /** `kind` or `kind.node`: stable across polls, restarts and instances. */
  key: z.string().regex(/^[a-z0-9_.-]{1,140}$/),
  kind: ConditionKind,
  node: z.string().nullable(),
  /** One line, plain text: what is wrong. */
  summary: z.string(),
  /** Plain-text facts, one per line. */
  facts: z.array(z.string()),
  /** ReplicatorIdTable rows found (a sample), for the rows condition. */
  rows: z.array(z.record(z.string(), z.unknown())).default([]),
  /** When the condition began (for thresholded ones: when it was first seen, before the threshold passed). */
  since: z.string(),
  /** What the resolution says once the condition is gone (the flavour's words). */
  cleared: z.string().default('the condition cleared'),
  /** The planner's proposal at this poll, in one line. */
  proposal: z.string(),
  runbook: RunbookRef.nullable(),
});
export type Observation = z.infer<typeof Observation>;

/** What the monitor remembers of a topology between polls (Redis, JSON). */
export const MonitorMemory = z.object({
  /** When each pending or open condition was first seen: thresholds count from here. */
  pendingSince: z.record(z.string(), z.string()).default({}),
  /** Highest replicator_remote seen per slave since the last explained change. */
  highWater: z.record(z.string(), z.number()).default({}),
  /** The dedicated slave last accepted (first seen, or set by a Recover run). */
  dedicatedSlave: z.string().nullable().default(null),
  lastPollAt: z.string().nullable().default(null),
  polls: z.number().int().nonnegative().default(0),
});
export type MonitorMemory = z.infer<typeof MonitorMemory>;

export const emptyMemory = (): MonitorMemory => MonitorMemory.parse({});
