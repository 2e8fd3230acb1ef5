import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * A step's database sessions carry a tag so that another worker can find and cancel them after
 * this one died: PostgreSQL's application_name (at most 63 bytes), a leading comment on MariaDB.
 * Format: `recover/<run>/<step>/<attempt>`; each part is kept as is when short and plain, else
 * shortened with a hash, deterministically, so that prefixes still match (`recover/<run>/` finds
 * every attempt of every step of the run).
 */
export const TAG_ROOT = 'recover/';
const RUN_CHARS = 18;
const STEP_CHARS = 24;
// No quote, star, percent, underscore or space: safe in a comment, a LIKE and an application_name.
const PLAIN = /^[A-Za-z0-9.~-]+$/;

/** A tag or a tag prefix as cancelLeftovers accepts it. */
export const TagPrefixSchema = z
  .string()
  .max(63)
  .regex(/^recover\/[A-Za-z0-9.~/-]+$/, 'not a recover step tag');

export interface StepTagParts {
  runId: string;
  stepId: string;
  /** The ledger's attempt count for the step (1 for the first run). */
  attempt: number;
}

function part(value: string, max: number): string {
  if (value.length <= max && PLAIN.test(value)) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 8);
  const head = value.slice(0, max - 9).replace(/[^A-Za-z0-9.-]/g, '-');
  return `${head}~${hash}`;
}

/** The tag for one attempt of one step: `recover/<run>/<step>/<attempt>`, never over 63 bytes. */
export function stepTag(p: StepTagParts): string {
  if (!Number.isSafeInteger(p.attempt) || p.attempt < 0 || p.attempt > 999_999)
    throw new RangeError(`attempt ${p.attempt} is not a small non-negative integer`);
  return `${stepTagPrefix({ runId: p.runId, stepId: p.stepId })}${p.attempt}`;
}

/** What every tag of a run (or of one step of it, any attempt) starts with; ends in "/". */
export function stepTagPrefix(p: { runId: string; stepId?: string }): string {
  const run = `${TAG_ROOT}${part(p.runId, RUN_CHARS)}/`;
  return p.stepId === undefined ? run : `${run}${part(p.stepId, STEP_CHARS)}/`;
}

/** The comment MariaDB statements start with; it shows in information_schema.PROCESSLIST.INFO. */
export function tagComment(tag: string): string {
  return `/* ${TagPrefixSchema.parse(tag)} */`;
}
