import { STEP_LOCK_TIMEOUT_MS, type SessionOptions } from './session-limits';
import type { Db } from './types';

/**
 * Runs a step's statements on one tagged session with bounded lock waits, where the Db can give
 * one; a Db without sessions (a test double) runs `fn` on itself.
 */
export function inStepSession<T>(
  db: Db,
  tag: string | undefined,
  fn: (db: Db) => Promise<T>,
  options: Omit<SessionOptions, 'tag'> = {},
): Promise<T> {
  if (!db.session) return fn(db);
  return db.session({ tag, lockTimeoutMs: options.lockTimeoutMs ?? STEP_LOCK_TIMEOUT_MS }, fn);
}
