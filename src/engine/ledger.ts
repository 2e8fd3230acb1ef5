import type { Redis } from 'ioredis';
import type { Plan } from '../runbook/types';
import { fromFields, RecoverKeys, toFields, type Clock, type Fence, type StoreOptions } from './keys';
import { AUDIT_ALL_MAXLEN } from './audit';
import { leaseHolderFrom } from './lease';
import {
  checkFenced,
  CONSUME_APPROVAL,
  DECIDE,
  START_RUN,
  fenceArgs,
  LedgerError,
  READ_STEPS,
  RECORD_APPROVAL,
  REPLACE_PLAN,
  SET_RUN_STATE,
  toApproval,
  TRANSITION,
  VOID_APPROVAL,
  type Reply,
} from './ledger-scripts';
import {
  TERMINAL_RUN_STATES,
  type Approval,
  type AuditEvent,
  type LeaseAcquire,
  type RunRecord,
  type RunState,
  type StepRecord,
  type StepState,
} from './types';

export { LedgerError, type LedgerErrorCode } from './ledger-scripts';

/** What a transition may set besides the state (attempts is counted by the ledger). */
export type StepPatch = Partial<
  Pick<StepRecord, 'startedAt' | 'finishedAt' | 'result' | 'awaitingSince' | 'waitingSince'>
>;

/** Audit events written in the same atomic step as a state change. */
type Events = AuditEvent | AuditEvent[] | undefined;

export type RecordApprovalResult =
  { recorded: true; approval: Approval } | { recorded: false; existing: Approval };

/** Runs, their plans, one record per step, and approvals; every change is a fenced compare-and-set. */
export class RunLedger {
  private readonly keys: RecoverKeys;
  private readonly clock: Clock;

  constructor(
    private readonly redis: Redis,
    options: StoreOptions = {},
  ) {
    this.keys = new RecoverKeys(options.prefix);
    this.clock = options.clock ?? (() => new Date());
  }

  /** Record a run whose lease is taken already (tests and tools; the engine uses startRun). */
  async createRun(run: RunRecord, plan: Plan): Promise<void> {
    const created = await this.startRun(run, plan, []);
    if (!created.ok)
      throw new LedgerError(
        'BAD_RUN',
        `run ${run.id} does not hold ${run.topology}: ${created.holder.runId} does`,
      );
  }

  /**
   * Take the topology's lease and record the run (and its first audit events) in one atomic
   * step: a crash leaves either both or neither.
   */
  async startRun(run: RunRecord, plan: Plan, events: Events): Promise<LeaseAcquire> {
    if (run.planHash !== plan.hash)
      throw new LedgerError(
        'BAD_PLAN',
        `run ${run.id} names plan ${run.planHash} but was given ${plan.hash}`,
      );
    const createdMs = Date.parse(run.createdAt);
    if (Number.isNaN(createdMs)) throw new LedgerError('BAD_RUN', `run ${run.id} has no valid createdAt`);
    const fields = toFields(run);
    const k = this.keys;
    const reply = (await START_RUN.run(
      this.redis,
      [
        k.lease(run.topology),
        k.leaseToken(run.topology),
        k.run(run.id),
        k.plan(run.id),
        k.stepIds(run.id),
        k.runs(),
        k.runs(run.topology),
        ...this.auditKeys(run.id),
      ],
      [
        JSON.stringify(run.id),
        JSON.stringify(run.requester),
        JSON.stringify(run.topology),
        JSON.stringify(run.createdAt),
        createdMs,
        run.id,
        JSON.stringify(plan),
        k.stepPrefix(run.id),
        fields.length,
        ...fields,
        ...stepIdsOf(plan),
        ...auditTail(events),
      ],
    )) as Reply;
    if (reply[0] === 'exists') throw new LedgerError('RUN_EXISTS', `run ${run.id} already exists`);
    const holder = leaseHolderFrom(reply[1] as unknown[]);
    return reply[0] === 'ok' ? { ok: true, lease: holder } : { ok: false, holder };
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const raw = await this.redis.hgetall(this.keys.run(id));
    return Object.keys(raw).length === 0 ? null : (fromFields(raw) as unknown as RunRecord);
  }

  async getPlan(id: string): Promise<Plan | null> {
    const raw = await this.redis.get(this.keys.plan(id));
    return raw === null ? null : (JSON.parse(raw) as Plan);
  }

  /**
   * After drift: done/skipped steps keep their records, the rest of the new plan is pending.
   * Takes the token alone (the run knows its topology) or the engine's fence.
   */
  async replacePlan(id: string, plan: Plan, token: number | Fence): Promise<void> {
    const run = await this.mustGetRun(id);
    if (plan.topology !== run.topology)
      throw new LedgerError('BAD_PLAN', `plan is for ${plan.topology}, run ${id} is on ${run.topology}`);
    const fence = typeof token === 'number' ? { topology: run.topology, token } : token;
    const k = this.keys;
    const reply = (await REPLACE_PLAN.run(
      this.redis,
      [k.run(id), k.lease(fence.topology), k.plan(id), k.stepIds(id)],
      [
        ...fenceArgs(fence),
        JSON.stringify(plan),
        JSON.stringify(plan.hash),
        JSON.stringify(this.now()),
        k.stepPrefix(id),
        ...stepIdsOf(plan),
      ],
    )) as Reply;
    if (reply[0] === 'in-flight')
      throw new LedgerError('STEP_IN_FLIGHT', `step ${String(reply[1])} of run ${id} is running or unknown`);
    checkFenced(reply, id, fence);
  }

  /** Every step record, in plan order. */
  async getSteps(id: string): Promise<StepRecord[]> {
    const raw = (await READ_STEPS.run(
      this.redis,
      [this.keys.stepIds(id)],
      [this.keys.stepPrefix(id)],
    )) as unknown[][];
    return raw.filter((r) => r.length > 0).map((r) => fromFields(r) as unknown as StepRecord);
  }

  async getStep(id: string, stepId: string): Promise<StepRecord | null> {
    const raw = await this.redis.hgetall(this.keys.step(id, stepId));
    return Object.keys(raw).length === 0 ? null : (fromFields(raw) as unknown as StepRecord);
  }

  /**
   * Atomic: applies only if the step is in one of `from` (else null) and `fence` still holds the
   * topology (else StaleTokenError). Entering 'running' counts an attempt.
   */
  async transitionStep(
    runId: string,
    stepId: string,
    from: StepState[],
    to: StepState,
    patch: StepPatch,
    fence: Fence,
    events?: Events,
  ): Promise<StepRecord | null> {
    const k = this.keys;
    const { startedAt, finishedAt, result, awaitingSince, waitingSince } = patch; // nothing else may be patched
    const reply = (await TRANSITION.run(
      this.redis,
      [k.run(runId), k.lease(fence.topology), k.step(runId, stepId), ...this.auditKeys(runId)],
      [
        ...fenceArgs(fence),
        JSON.stringify(to),
        JSON.stringify(this.now()),
        from.length,
        ...from.map((s) => JSON.stringify(s)),
        ...toFields({ startedAt, finishedAt, result, awaitingSince, waitingSince }),
        ...auditTail(events),
      ],
    )) as Reply;
    if (reply[0] === 'no-step') throw new LedgerError('STEP_NOT_FOUND', `run ${runId} has no step ${stepId}`);
    if (reply[0] === 'mismatch') return null;
    checkFenced(reply, runId, fence);
    return fromFields(reply[1] as unknown[]) as unknown as StepRecord;
  }

  /**
   * Fenced like transitionStep; a terminal state is final (setting it again is a no-op). With
   * `from`, applies only while the run is in one of those states (else null).
   */
  async setRunState(
    runId: string,
    state: RunState,
    fence: Fence,
    reason?: string | null,
    options: { events?: Events; from?: RunState[] } = {},
  ): Promise<RunRecord | null> {
    const from = options.from ?? [];
    const reply = (await SET_RUN_STATE.run(
      this.redis,
      [this.keys.run(runId), this.keys.lease(fence.topology), ...this.auditKeys(runId)],
      [
        ...fenceArgs(fence),
        JSON.stringify(state),
        JSON.stringify(reason ?? null),
        JSON.stringify(this.now()),
        from.length,
        ...from.map((s) => JSON.stringify(s)),
        ...TERMINAL_RUN_STATES.map((s) => JSON.stringify(s)),
        ...auditTail(options.events),
      ],
    )) as Reply;
    if (reply[0] === 'mismatch') return null;
    if (reply[0] === 'ended')
      throw new LedgerError('RUN_ENDED', `run ${runId} has ended (${String(JSON.parse(String(reply[1])))})`);
    checkFenced(reply, runId, fence);
    return fromFields(reply[1] as unknown[]) as unknown as RunRecord;
  }

  /** Newest first. */
  async listRuns(topology?: string, limit = 20): Promise<RunRecord[]> {
    if (limit < 1) return [];
    const ids = await this.redis.zrevrange(this.keys.runs(topology), 0, limit - 1);
    const runs = await Promise.all(ids.map((id) => this.getRun(id)));
    return runs.filter((r): r is RunRecord => r !== null);
  }

  /**
   * One approval per (run, gate, planHash), atomically: a double click answers
   * {recorded: false, existing}. The plan hash must be the run's current one (STALE_PLAN).
   */
  async recordApproval(
    runId: string,
    approval: Approval,
    fence: Fence,
    events?: Events,
  ): Promise<RecordApprovalResult> {
    const k = this.keys;
    const fresh: Approval = { ...approval, voidedAt: null, consumedAt: null };
    const reply = (await RECORD_APPROVAL.run(
      this.redis,
      [
        k.run(runId),
        k.lease(fence.topology),
        k.approvals(runId),
        k.approvalSeq(runId),
        ...this.auditKeys(runId),
      ],
      [
        ...fenceArgs(fence),
        approval.gate,
        JSON.stringify(approval.planHash),
        k.approvalPrefix(runId),
        JSON.stringify(approval.at),
        ...toFields(fresh),
        ...auditTail(events),
      ],
    )) as Reply;
    if (reply[0] === 'stale-plan')
      throw new LedgerError(
        'STALE_PLAN',
        `approval names plan ${approval.planHash.slice(0, 12)} but run ${runId} is on ${String(JSON.parse(String(reply[1]))).slice(0, 12)}`,
      );
    if (reply[0] === 'exists') return { recorded: false, existing: toApproval(reply[1] as unknown[]) };
    checkFenced(reply, runId, fence);
    return { recorded: true, approval: toApproval(reply[1] as unknown[]) };
  }

  /** The gate's latest approval, or null when there is none or it was voided. */
  async getApproval(runId: string, gate: string): Promise<Approval | null> {
    const n = await this.redis.hget(this.keys.approvals(runId), gate);
    if (n === null) return null;
    const raw = await this.redis.hgetall(this.keys.approvalPrefix(runId) + n);
    if (Object.keys(raw).length === 0) return null;
    const approval = toApproval(raw);
    return approval.voidedAt === null ? approval : null;
  }

  /** True when a live approval was voided. */
  async voidApproval(runId: string, gate: string, at: string): Promise<boolean> {
    const reply = await VOID_APPROVAL.run(
      this.redis,
      [this.keys.approvals(runId)],
      [gate, this.keys.approvalPrefix(runId), JSON.stringify(at)],
    );
    return reply === 1;
  }

  /**
   * Spend the gate's approval on one step, atomically: true the first time for that step, false
   * ever after. Throws NO_APPROVAL / STALE_PLAN when no live approval for the current plan
   * exists, APPROVAL_EXPIRED when it was given before `givenAfter` (too old to act on).
   */
  async consumeApproval(
    runId: string,
    gate: string,
    stepId: string,
    at: string,
    givenAfter = '',
  ): Promise<boolean> {
    const plan = await this.getPlan(runId);
    if (!plan) throw new LedgerError('RUN_NOT_FOUND', `no run ${runId}`);
    if (plan.steps.find((s) => s.id === stepId)?.gate !== gate)
      throw new LedgerError('NOT_IN_GATE', `step ${stepId} is not part of gate ${gate} in run ${runId}`);
    const reply = await CONSUME_APPROVAL.run(
      this.redis,
      [this.keys.run(runId), this.keys.approvals(runId)],
      [
        gate,
        this.keys.approvalPrefix(runId),
        stepId,
        JSON.stringify(at),
        givenAfter && JSON.stringify(givenAfter),
      ],
    );
    if (reply === 'expired')
      throw new LedgerError(
        'APPROVAL_EXPIRED',
        `the approval of gate ${gate} of run ${runId} is too old to act on`,
      );
    if (reply === 'none')
      throw new LedgerError('NO_APPROVAL', `gate ${gate} of run ${runId} has no live approval`);
    if (reply === 'stale-plan')
      throw new LedgerError(
        'STALE_PLAN',
        `the approval of gate ${gate} is for an older plan of run ${runId}`,
      );
    return reply === 'ok';
  }

  /**
   * A human's choice for an unknown step: 'done' (it took effect) or 'pending' (run it again),
   * with its audit event. Returns the steps still unknown; the run is running again when none is.
   */
  async decideStep(
    runId: string,
    stepId: string,
    to: 'done' | 'pending',
    patch: StepPatch,
    fence: Fence,
    stillHaltedReason: string,
    events: Events,
  ): Promise<string[]> {
    const k = this.keys;
    const { finishedAt, result } = patch;
    const reply = (await DECIDE.run(
      this.redis,
      [
        k.run(runId),
        k.lease(fence.topology),
        k.step(runId, stepId),
        k.stepIds(runId),
        ...this.auditKeys(runId),
      ],
      [
        ...fenceArgs(fence),
        JSON.stringify(to),
        JSON.stringify(this.now()),
        k.stepPrefix(runId),
        stillHaltedReason.replace(/%/g, '%%').replace('%%s', '%s'),
        ...toFields({ finishedAt, result }),
        ...auditTail(events),
      ],
    )) as Reply;
    if (reply[0] === 'not-halted')
      throw new LedgerError(
        'NOT_HALTED',
        `run ${runId} is ${String(JSON.parse(String(reply[1])))}, not halted`,
      );
    if (reply[0] === 'mismatch')
      throw new LedgerError('STEP_NOT_UNKNOWN', `step ${stepId} of run ${runId} is not in an unknown state`);
    checkFenced(reply, runId, fence);
    return reply.slice(1).map(String);
  }

  private auditKeys(runId: string): string[] {
    return [this.keys.audit(runId), this.keys.auditAll()];
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private async mustGetRun(id: string): Promise<RunRecord> {
    const run = await this.getRun(id);
    if (!run) throw new LedgerError('RUN_NOT_FOUND', `no run ${id}`);
    return run;
  }
}

/** The ARGV tail the audited scripts take off: event bodies, their count, the all-runs cap. */
function auditTail(events: Events): (string | number)[] {
  const list = events === undefined ? [] : Array.isArray(events) ? events : [events];
  return [...list.map((e) => JSON.stringify(e)), list.length, AUDIT_ALL_MAXLEN];
}

function stepIdsOf(plan: Plan): string[] {
  const ids = plan.steps.map((s) => s.id);
  if (new Set(ids).size !== ids.length)
    throw new LedgerError('BAD_PLAN', `plan ${plan.hash} repeats a step id`);
  return ids;
}
