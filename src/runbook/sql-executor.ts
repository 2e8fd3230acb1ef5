import { performance } from 'node:perf_hooks';
import { DbError } from '../db/errors';
import type { Db, QueryResult, Row } from '../db/types';
import type { Capture, Check, PlanStep, ResolvedValue, StepResult } from './types';

/** Looks up a value an earlier step captured; undefined when that step has not captured it. */
export type CaptureLookup = (planStepId: string, name: string) => string | undefined;

/** Rows kept in a result for humans; rowCount carries the real count. */
export const MAX_RESULT_ROWS = 5;

/** A result with nothing in it, for executors to spread over. `ok` starts false on purpose. */
export function emptyResult(): StepResult {
  return {
    ok: false,
    rows: [],
    rowCount: 0,
    affectedRows: null,
    exitCode: null,
    stdoutTail: null,
    stderrTail: null,
    bytes: null,
    durationMs: 0,
    captured: {},
    error: null,
    note: null,
  };
}

const elapsed = (started: number): number => Math.round((performance.now() - started) * 10) / 10;
const plural = (n: number): string => `${n} row${n === 1 ? '' : 's'}`;

/** Run one SQL step. DB failures and failed checks come back as ok:false; only misuse throws. */
export async function executeSqlAction(db: Db, step: PlanStep, captured: CaptureLookup): Promise<StepResult> {
  const action = step.action;
  if (action.kind !== 'sql') throw new Error(`executeSqlAction got a ${action.kind} step (${step.id})`);
  assertSameNode(db, step);
  const started = performance.now();
  const params = bind(action.params, captured);
  if ('error' in params) return { ...emptyResult(), error: params.error, durationMs: elapsed(started) };
  let result: QueryResult;
  try {
    result = await db.query(action.sql, params.values);
  } catch (err) {
    if (!(err instanceof DbError)) throw err;
    return { ...emptyResult(), error: err.message, durationMs: elapsed(started) };
  }
  return { ...evaluate(step, action.sql, result, step.check), durationMs: elapsed(started) };
}

/** Poll a wait step's SQL until its condition holds, the timeout passes or `signal` aborts. */
export async function executeWaitAction(
  db: Db,
  step: PlanStep,
  captured: CaptureLookup,
  signal?: AbortSignal,
): Promise<StepResult> {
  const action = step.action;
  if (action.kind !== 'wait') throw new Error(`executeWaitAction got a ${action.kind} step (${step.id})`);
  assertSameNode(db, step);
  const started = performance.now();
  const params = bind(action.params, captured);
  if ('error' in params) return { ...emptyResult(), error: params.error, durationMs: elapsed(started) };
  let polls = 0;
  let last: StepResult;
  for (;;) {
    polls++;
    try {
      const result = await db.query(action.sql, params.values);
      const until = evaluate(step, action.sql, result, action.until);
      // The condition is what we wait for; the step's own check applies once it holds.
      if (until.ok)
        return { ...evaluate(step, action.sql, result, step.check), durationMs: elapsed(started) };
      last = until;
    } catch (err) {
      // A node that is restarting refuses connections for a while: that is still "not yet".
      if (!(err instanceof DbError)) throw err;
      last = { ...emptyResult(), error: err.message };
    }
    const left = action.timeoutMs - (performance.now() - started);
    if (left <= 0 || signal?.aborted) {
      const why = signal?.aborted ? 'aborted' : `still not satisfied after ${action.timeoutMs} ms`;
      return {
        ...last,
        ok: false,
        error: `${why} (${polls} poll${polls === 1 ? '' : 's'}): ${last.error ?? 'condition not met'}`,
        durationMs: elapsed(started),
      };
    }
    await sleep(Math.min(action.intervalMs, left), signal);
  }
}

/**
 * One look at a wait-until or checklist probe: null problem when `until` holds. A failed bind is
 * a problem; a database that cannot answer throws DbError (the caller counts it unknown).
 */
export async function executeSqlProbe(
  db: Db,
  probe: { sql: string; params: ResolvedValue[] },
  until: Check,
  captured: CaptureLookup,
): Promise<{ result: StepResult; problem: string | null }> {
  const params = bind(probe.params, captured);
  if ('error' in params) return { result: { ...emptyResult(), error: params.error }, problem: params.error };
  const result = await db.query(probe.sql, params.values);
  const problem = checkProblem(until, probe.sql, result);
  const rows = result.rows.slice(0, MAX_RESULT_ROWS).map(jsonSafeRow);
  return {
    result: { ...emptyResult(), ok: problem === null, rows, rowCount: result.rows.length, error: problem },
    problem,
  };
}

/** The engine's own test step: sleeps, succeeds. */
export async function executeNoop(step: PlanStep, signal?: AbortSignal): Promise<StepResult> {
  const action = step.action;
  if (action.kind !== 'noop') throw new Error(`executeNoop got a ${action.kind} step (${step.id})`);
  const started = performance.now();
  await sleep(action.sleepMs, signal);
  if (signal?.aborted) return { ...emptyResult(), error: 'aborted', durationMs: elapsed(started) };
  return { ...emptyResult(), ok: true, durationMs: elapsed(started) };
}

/** Running a step's SQL on another node than the plan says would be the worst possible bug. */
function assertSameNode(db: Db, step: PlanStep): void {
  if (db.node !== step.node || db.engine !== step.engine)
    throw new Error(`step ${step.id} is for ${step.node} (${step.engine}), got ${db.node} (${db.engine})`);
}

function bind(params: ResolvedValue[], captured: CaptureLookup): { values: unknown[] } | { error: string } {
  const values: unknown[] = [];
  for (const p of params) {
    if ('literal' in p) {
      values.push(p.literal);
      continue;
    }
    const value = captured(p.planStep, p.capture);
    if (value === undefined)
      return {
        error: `no value captured for ${p.capture} from ${p.planStep} (has that step run?); nothing was executed`,
      };
    values.push(value);
  }
  return { values };
}

/** Rows, affected count, captures and check of one statement's outcome. */
function evaluate(step: PlanStep, sql: string, result: QueryResult, check: Check | null): StepResult {
  const read = /^\s*(SELECT|SHOW|EXPLAIN)\b/i.test(sql);
  const rows = result.rows.slice(0, MAX_RESULT_ROWS).map(jsonSafeRow);
  const captures = capture(step.captures, result.rows[0]);
  const problems = [captures.error, check && checkProblem(check, sql, result)].filter((p) => !!p);
  return {
    ...emptyResult(),
    ok: problems.length === 0,
    rows,
    rowCount: result.rows.length,
    affectedRows: read ? null : result.affectedRows,
    captured: captures.values,
    error: problems.length > 0 ? problems.join('; ') : null,
    note: result.rows.length > rows.length ? `showing ${rows.length} of ${result.rows.length} rows` : null,
  };
}

function capture(
  captures: Capture[],
  row: Row | undefined,
): { values: Record<string, string>; error: string | null } {
  const values: Record<string, string> = {};
  if (captures.length === 0) return { values, error: null };
  const names = captures.map((c) => c.name).join(', ');
  if (!row) return { values, error: `no row to capture ${names} from` };
  for (const c of captures) {
    // Exact column first; a case-insensitive match covers engines that fold names to upper case.
    const key = Object.hasOwn(row, c.column)
      ? c.column
      : Object.keys(row).find((k) => k.toLowerCase() === c.column.toLowerCase());
    if (key === undefined)
      return {
        values,
        error: `column ${c.column} (for ${c.name}) is not in the result (columns: ${Object.keys(row).join(', ')})`,
      };
    const value = row[key];
    if (value === null || value === undefined)
      return { values, error: `column ${c.column} (for ${c.name}) is NULL` };
    values[c.name] = asText(value);
  }
  return { values, error: null };
}

function checkProblem(check: Check, sql: string, result: QueryResult): string | null {
  switch (check.kind) {
    case 'affected-rows': {
      if (result.affectedRows === check.equals) return null;
      return `expected exactly ${plural(check.equals)} ${verbOf(sql)}, got ${result.affectedRows}`;
    }
    case 'row-count': {
      const n = result.rows.length;
      if (check.min !== undefined && n < check.min) return `expected at least ${plural(check.min)}, got ${n}`;
      if (check.max !== undefined && n > check.max) return `expected at most ${plural(check.max)}, got ${n}`;
      return null;
    }
    case 'column-true': {
      const row = result.rows[0];
      const value = row ? columnOf(row, check.column) : undefined;
      if (value === true || value === 't' || value === 1 || value === '1') return null;
      return row ? `${check.column} is ${value === undefined ? 'missing' : asText(value)}` : 'no row';
    }
    case 'exit-code':
    case 'output-equals':
      throw new Error(`a ${check.kind} check does not apply to SQL`);
  }
}

function columnOf(row: Row, column: string): unknown {
  if (Object.hasOwn(row, column)) return row[column];
  const key = Object.keys(row).find((k) => k.toLowerCase() === column.toLowerCase());
  return key === undefined ? undefined : row[key];
}

/** "Updated 1 rows" in the seed's words: say what the statement did. */
function verbOf(sql: string): string {
  const keyword = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase();
  if (keyword === 'INSERT') return 'inserted';
  if (keyword === 'UPDATE') return 'updated';
  if (keyword === 'DELETE') return 'deleted';
  return 'affected';
}

function asText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Results go to Redis and Slack as JSON: no bigint, no Buffer dumps. */
function jsonSafeRow(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'bigint') out[k] = v.toString();
    else if (Buffer.isBuffer(v)) out[k] = `<${v.length} bytes>`;
    else if (v instanceof Date) out[k] = v.toISOString();
    else out[k] = v;
  }
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
