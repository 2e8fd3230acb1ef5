/**
 * Bounds on how long a step's statements wait, so that one left behind by a dead worker cannot
 * wait for a lock forever and commit long after the step was declared unknown (issue 11).
 *
 * - STEP_LOCK_TIMEOUT_MS (2 min) for SQL and drop-schema steps: their statements touch a few
 *   rows or drop a schema whose servers are stopped; a longer wait means something still holds
 *   the schema, and failing (retry after a look) beats waiting silently.
 * - RESTORE_LOCK_TIMEOUT_MS (10 min) for the restore's client sessions: they create fresh objects
 *   and wait for nothing in a normal restore; generous, so a briefly busy target does not fail it.
 *   It bounds lock waits, not the restore's duration (that is the step's own timeout).
 * - CLIENT_CHECK_INTERVAL_MS (5 s) is PostgreSQL's client_connection_check_interval (14+): the
 *   server checks that the client is still there while a query runs, and aborts it if not.
 */
export const STEP_LOCK_TIMEOUT_MS = 120_000;
export const RESTORE_LOCK_TIMEOUT_MS = 600_000;
export const CLIENT_CHECK_INTERVAL_MS = 5_000;

/** What a step's session is set up with. */
export interface SessionOptions {
  /** Marks the session (application_name) or its statements (a leading comment); see step-tag.ts. */
  tag?: string;
  /** Longest wait for a lock; STEP_LOCK_TIMEOUT_MS unless told. */
  lockTimeoutMs?: number;
}

/** MariaDB/MySQL lock_wait_timeout and innodb_lock_wait_timeout are whole seconds. */
export function lockWaitSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
