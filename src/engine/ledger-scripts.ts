import { fromFields, LuaScript, type Fence } from './keys';
import { StaleTokenError } from './lease';
import type { Approval } from './types';

export type LedgerErrorCode =
  | 'RUN_EXISTS'
  | 'RUN_NOT_FOUND'
  | 'STEP_NOT_FOUND'
  | 'WRONG_TOPOLOGY'
  | 'BAD_RUN'
  | 'BAD_PLAN'
  | 'STEP_IN_FLIGHT'
  | 'RUN_ENDED'
  | 'STALE_PLAN'
  | 'NO_APPROVAL'
  | 'APPROVAL_EXPIRED'
  | 'NOT_IN_GATE'
  | 'NOT_HALTED'
  | 'STEP_NOT_UNKNOWN';

export class LedgerError extends Error {
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}

/** A script's answer: a status word, then its payload. */
export type Reply = [string, ...unknown[]];

export function fenceArgs(fence: Fence): string[] {
  return [JSON.stringify(fence.topology), String(fence.token)];
}

/** Turns a fenced script's refusal into the matching error; lets 'ok' through. */
export function checkFenced(reply: Reply, runId: string, fence: Fence): void {
  switch (reply[0]) {
    case 'ok':
      return;
    case 'no-run':
      throw new LedgerError('RUN_NOT_FOUND', `no run ${runId}`);
    case 'wrong-topology':
      throw new LedgerError(
        'WRONG_TOPOLOGY',
        `run ${runId} is on ${String(JSON.parse(String(reply[1])))}, not ${fence.topology}`,
      );
    case 'stale': {
      const current = String(reply[1]);
      throw new StaleTokenError(fence.topology, fence.token, current === '' ? null : Number(current));
    }
    default:
      throw new Error(`unexpected ledger script reply ${JSON.stringify(reply)}`);
  }
}

export function toApproval(raw: Record<string, string> | unknown[]): Approval {
  const f = fromFields(raw);
  return {
    gate: f.gate as string,
    planHash: f.planHash as string,
    approver: f.approver as string,
    at: f.at as string,
    voidedAt: f.voidedAt as string | null,
    consumedAt: f.consumedAt as string | null,
  };
}

/*
 * The ledger's check-and-set scripts. Hash fields hold JSON values (keys.ts toFields), so a
 * state is compared as '"running"' and null is 'null'. Fenced scripts take KEYS[1] = run,
 * KEYS[2] = lease, ARGV[1] = topology (JSON), ARGV[2] = token, and answer {'no-run'},
 * {'wrong-topology', t} or {'stale', currentToken} before touching anything.
 */
const FENCE = `
local function fenced()
  local topo = redis.call('HGET', KEYS[1], 'topology')
  if not topo then return {'no-run'} end
  if topo ~= ARGV[1] then return {'wrong-topology', topo} end
  local t = redis.call('HGET', KEYS[2], 'token')
  if t ~= ARGV[2] then return {'stale', t or ''} end
  return nil
end
local f = fenced()
if f then return f end
`;

/**
 * Scripts that record their audit events in the same atomic step as the state change: the last
 * two KEYS are the run's audit stream and the all-runs stream; the last ARGV are the events'
 * JSON bodies, their count and the all-runs stream's cap (see auditTail in ledger.ts).
 * Must come first in a script: it takes its arguments off the ends of KEYS and ARGV.
 */
const AUDIT = `
local AUDIT_CAP = table.remove(ARGV)
local AUDIT_N = tonumber(table.remove(ARGV))
local AUDIT_EVENTS = {}
for i = 1, AUDIT_N do table.insert(AUDIT_EVENTS, 1, table.remove(ARGV)) end
local AUDIT_ALL = table.remove(KEYS)
local AUDIT_RUN = table.remove(KEYS)
local function emit()
  for _, body in ipairs(AUDIT_EVENTS) do
    redis.call('XADD', AUDIT_RUN, '*', 'event', body)
    redis.call('XADD', AUDIT_ALL, 'MAXLEN', '~', AUDIT_CAP, '*', 'event', body)
  end
end
`;

const PENDING = `
local function pending(key, id, attempts)
  redis.call('DEL', key)
  redis.call('HSET', key, 'stepId', cjson.encode(id), 'state', '"pending"', 'attempts', attempts,
    'startedAt', 'null', 'finishedAt', 'null', 'result', 'null', 'awaitingSince', 'null')
end
`;

/**
 * Lease and run in one step, so a crash cannot leave a lease held by a run that does not exist
 * (a lease this run holds already is kept as it is).
 * KEYS lease, lease-token, run, plan, step-ids, runs, runs:topology (+ audit); ARGV runId (JSON),
 * requester (JSON), topology (JSON), now (JSON), score, id, plan, step prefix, n, n run fields…,
 * step ids… → {'held', holder} | {'exists'} | {'ok', lease}.
 */
export const START_RUN = new LuaScript(`${AUDIT}${PENDING}
local held = redis.call('HGET', KEYS[1], 'runId')
if held and held ~= ARGV[1] then return {'held', redis.call('HGETALL', KEYS[1])} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'exists'} end
if not held then
  local token = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'topology', ARGV[3], 'runId', ARGV[1], 'requester', ARGV[2],
    'since', ARGV[4], 'heartbeatAt', ARGV[4], 'token', tostring(token), 'busy', 'false')
end
local n = tonumber(ARGV[9])
local fields = {}
for i = 10, 9 + n do table.insert(fields, ARGV[i]) end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('SET', KEYS[4], ARGV[7])
for i = 10 + n, #ARGV do
  pending(ARGV[8] .. ARGV[i], ARGV[i], '0')
  redis.call('RPUSH', KEYS[5], ARGV[i])
end
redis.call('ZADD', KEYS[6], ARGV[5], ARGV[6])
redis.call('ZADD', KEYS[7], ARGV[5], ARGV[6])
emit()
return {'ok', redis.call('HGETALL', KEYS[1])}
`);

/** KEYS step-ids; ARGV step prefix → one HGETALL per step, in plan order (one snapshot). */
export const READ_STEPS = new LuaScript(`
local out = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  table.insert(out, redis.call('HGETALL', ARGV[1] .. id))
end
return out
`);

/** KEYS run, lease, step; ARGV …, to, updatedAt, n, n from-states…, patch field/value pairs… */
export const TRANSITION = new LuaScript(`${AUDIT}${FENCE}
local state = redis.call('HGET', KEYS[3], 'state')
if not state then return {'no-step'} end
local n = tonumber(ARGV[5])
local allowed = false
for i = 6, 5 + n do if ARGV[i] == state then allowed = true end end
if not allowed then return {'mismatch', state} end
local sets = {'state', ARGV[3]}
for i = 6 + n, #ARGV do table.insert(sets, ARGV[i]) end
redis.call('HSET', KEYS[3], unpack(sets))
if ARGV[3] == '"running"' then redis.call('HINCRBY', KEYS[3], 'attempts', 1) end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[4])
emit()
return {'ok', redis.call('HGETALL', KEYS[3])}
`);

/**
 * KEYS run, lease (+ audit); ARGV …, state, reason, updatedAt, n, n allowed current states
 * (none: any), terminal states… A terminal state is final; a current state not allowed answers
 * {'mismatch', state} and writes nothing.
 */
export const SET_RUN_STATE = new LuaScript(`${AUDIT}${FENCE}
local current = redis.call('HGET', KEYS[1], 'state')
local n = tonumber(ARGV[6])
for i = 7 + n, #ARGV do
  if current == ARGV[i] then
    if current == ARGV[3] then return {'ok', redis.call('HGETALL', KEYS[1])} end
    return {'ended', current}
  end
end
if n > 0 then
  local allowed = false
  for i = 7, 6 + n do if ARGV[i] == current then allowed = true end end
  if not allowed then return {'mismatch', current} end
end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'reason', ARGV[4], 'updatedAt', ARGV[5])
emit()
return {'ok', redis.call('HGETALL', KEYS[1])}
`);

/**
 * KEYS run, lease, plan, step-ids; ARGV …, plan, planHash, updatedAt, step prefix, new step ids…
 * Done and skipped steps keep their records; every other step of the new plan starts over as
 * pending (attempts kept). Refused while a step is running or unknown: that needs a human first.
 */
export const REPLACE_PLAN = new LuaScript(`${FENCE}${PENDING}
local old = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
  local s = redis.call('HGET', ARGV[6] .. id, 'state')
  if s == '"running"' or s == '"unknown"' then return {'in-flight', id} end
  old[id] = s
end
local wanted = {}
for i = 7, #ARGV do wanted[ARGV[i]] = true end
local function finished(s) return s == '"done"' or s == '"skipped"' end
for id, s in pairs(old) do
  if not wanted[id] and not finished(s) then redis.call('DEL', ARGV[6] .. id) end
end
redis.call('DEL', KEYS[4])
for i = 7, #ARGV do
  local id = ARGV[i]
  if not finished(old[id]) then
    local attempts = redis.call('HGET', ARGV[6] .. id, 'attempts') or '0'
    pending(ARGV[6] .. id, id, attempts)
  end
  redis.call('RPUSH', KEYS[4], id)
end
redis.call('SET', KEYS[3], ARGV[3])
redis.call('HSET', KEYS[1], 'planHash', ARGV[4], 'updatedAt', ARGV[5])
return {'ok'}
`);

/**
 * KEYS run, lease, approvals, approval-seq (+ audit); ARGV …, gate, planHash, approval prefix,
 * at, fields… One live approval per (run, gate, planHash): a repeat answers {'exists',
 * approval}. An approval for a newer plan voids the gate's older one; a void one can be
 * replaced (retry). A run waiting for approval is running again in the same step, so a crash
 * right after cannot leave an approved run waiting (the watchdog moves a running run on).
 */
export const RECORD_APPROVAL = new LuaScript(`${AUDIT}${FENCE}
local current = redis.call('HGET', KEYS[1], 'planHash')
if current ~= ARGV[4] then return {'stale-plan', current} end
local n = redis.call('HGET', KEYS[3], ARGV[3])
if n then
  local k = ARGV[5] .. n
  if redis.call('HGET', k, 'voidedAt') == 'null' then
    if redis.call('HGET', k, 'planHash') == ARGV[4] then return {'exists', redis.call('HGETALL', k)} end
    redis.call('HSET', k, 'voidedAt', ARGV[6])
  end
end
n = tostring(redis.call('INCR', KEYS[4]))
local fields = {}
for i = 7, #ARGV do table.insert(fields, ARGV[i]) end
redis.call('HSET', ARGV[5] .. n, unpack(fields))
redis.call('HSET', KEYS[3], ARGV[3], n)
if redis.call('HGET', KEYS[1], 'state') == '"awaiting-approval"' then
  redis.call('HSET', KEYS[1], 'state', '"running"', 'reason', 'null', 'updatedAt', ARGV[6])
end
emit()
return {'ok', redis.call('HGETALL', ARGV[5] .. n)}
`);

/** KEYS approvals; ARGV gate, approval prefix, at → 1 when a live approval was voided. */
export const VOID_APPROVAL = new LuaScript(`
local n = redis.call('HGET', KEYS[1], ARGV[1])
if not n then return 0 end
local k = ARGV[2] .. n
if redis.call('HGET', k, 'voidedAt') ~= 'null' then return 0 end
redis.call('HSET', k, 'voidedAt', ARGV[3])
return 1
`);

/**
 * KEYS run, approvals; ARGV gate, approval prefix, step id, at, given-after →
 * 'ok' | 'used' | 'none' | 'stale-plan' | 'expired'. HSETNX on a field per step is the once-only
 * guarantee for destructive steps; an approval given before given-after is too old to be used.
 */
export const CONSUME_APPROVAL = new LuaScript(`
local n = redis.call('HGET', KEYS[2], ARGV[1])
if not n then return 'none' end
local k = ARGV[2] .. n
if redis.call('HGET', k, 'voidedAt') ~= 'null' then return 'none' end
if redis.call('HGET', k, 'planHash') ~= redis.call('HGET', KEYS[1], 'planHash') then return 'stale-plan' end
if redis.call('HEXISTS', k, 'consumed:' .. ARGV[3]) == 1 then return 'used' end
if redis.call('HGET', k, 'at') < ARGV[5] then return 'expired' end
if redis.call('HSETNX', k, 'consumed:' .. ARGV[3], ARGV[4]) == 0 then return 'used' end
if redis.call('HGET', k, 'consumedAt') == 'null' then redis.call('HSET', k, 'consumedAt', ARGV[4]) end
return 'ok'
`);

/**
 * A human's choice for a step whose outcome is unknown, atomically with its audit event.
 * KEYS run, lease, step, step-ids (+ audit); ARGV …, to ('"done"' | '"pending"'), updatedAt,
 * step prefix, halted reason for the steps still unknown ('%s' = their ids), patch pairs…
 * → {'ok', remaining unknown ids…} | {'mismatch', state} | {'not-halted', state}.
 * The run stays halted while any step is unknown; the last decision sets it running again.
 */
export const DECIDE = new LuaScript(`${AUDIT}${FENCE}
local run_state = redis.call('HGET', KEYS[1], 'state')
if run_state ~= '"halted"' then return {'not-halted', run_state} end
local state = redis.call('HGET', KEYS[3], 'state')
if state ~= '"unknown"' then return {'mismatch', state or ''} end
local sets = {'state', ARGV[3]}
for i = 7, #ARGV do table.insert(sets, ARGV[i]) end
redis.call('HSET', KEYS[3], unpack(sets))
local left = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
  if redis.call('HGET', ARGV[5] .. id, 'state') == '"unknown"' then table.insert(left, id) end
end
if #left == 0 then
  redis.call('HSET', KEYS[1], 'state', '"running"', 'reason', 'null', 'updatedAt', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'reason', cjson.encode(string.format(ARGV[6], table.concat(left, ', '))), 'updatedAt', ARGV[4])
end
emit()
return {'ok', unpack(left)}
`);
