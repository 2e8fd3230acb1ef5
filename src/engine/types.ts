import type { Plan, StepResult } from '../runbook/types';
import type { StepProgress } from './progress';

export type StepState =
  'pending' | 'awaiting-approval' | 'running' | 'done' | 'failed' | 'skipped' | 'unknown';

/**
 * halted: a step's outcome is unknown (its worker died mid-step) and a human must choose
 * retry, mark-done or abort. Terminal states: done, failed, aborted.
 */
export type RunState = 'running' | 'awaiting-approval' | 'halted' | 'done' | 'failed' | 'aborted';

export const TERMINAL_RUN_STATES: readonly RunState[] = ['done', 'failed', 'aborted'];

export interface RunRecord {
  id: string; // safe for BullMQ job ids: a-z, 0-9, '-'
  topology: string;
  runbook: string;
  target: string | null;
  requester: string;
  state: RunState;
  planHash: string;
  createdAt: string;
  updatedAt: string;
  /** Why the run is halted, failed or aborted. */
  reason: string | null;
  dryRun: boolean;
}

export interface Approval {
  /** The gate (one or more steps) the approval covers. */
  gate: string;
  planHash: string;
  approver: string;
  at: string;
  /** Set when a re-probe found drift before execution: the approval no longer counts. */
  voidedAt: string | null;
  /** Consumed by the execution it allowed: a destructive step never runs twice for one approval. */
  consumedAt: string | null;
}

export interface StepRecord {
  stepId: string;
  state: StepState;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  result: StepResult | null;
  /** When the step began waiting for approval (the expiry counts from here). */
  awaitingSince: string | null;
  /** A wait-until or checklist step: when its first check found it not holding yet (the timeout counts from here). */
  waitingSince?: string | null;
}

export interface LeaseHolder {
  topology: string;
  runId: string;
  requester: string;
  since: string;
  heartbeatAt: string;
  /** Grows with every acquisition or takeover; writes carrying an older token are rejected. */
  token: number;
  /** A worker is moving the run right now (heartbeatAt says whether it still lives). */
  busy: boolean;
  /** When a busy worker that stopped beating counts as dead (epoch ms). */
  staleAt: number | null;
}

export type LeaseAcquire = { ok: true; lease: LeaseHolder } | { ok: false; holder: LeaseHolder };

/** Who asked; `as` in the terminal, the Slack user id in Slack. */
export interface Actor {
  id: string;
  /** Display only (audit, messages). */
  name?: string;
}

export type AuditKind =
  | 'plan'
  | 'start'
  | 'refused'
  | 'step-start'
  | 'step-result'
  | 'step-waiting'
  | 'awaiting-approval'
  | 'approval'
  | 'approval-refused'
  | 'approval-void'
  | 'rejection'
  | 'halt'
  | 'decision'
  | 'abort'
  | 'finish';

export interface AuditEvent {
  runId: string;
  kind: AuditKind;
  at: string;
  actor: string | null;
  stepId: string | null;
  /** One line a human reads in the timeline. */
  summary: string;
  /** Structured detail (SQL, result numbers, plan hash); never secrets. */
  detail: Record<string, unknown>;
}

/** What the engine tells humans. The terminal prints; Slack posts (issue 4). */
export type EngineEvent =
  | { type: 'run-started'; run: RunRecord; plan: Plan }
  | { type: 'step-started'; run: RunRecord; stepId: string }
  | { type: 'step-progress'; run: RunRecord; stepId: string; progress: StepProgress }
  | { type: 'step-result'; run: RunRecord; stepId: string; result: StepResult }
  /** A wait or checklist does not hold yet; `first` on the first check only (later checks update in place). */
  | { type: 'step-waiting'; run: RunRecord; stepId: string; result: StepResult; first: boolean }
  | { type: 'awaiting-approval'; run: RunRecord; gate: string; stepIds: string[]; planHash: string }
  | {
      type: 'approval-decided';
      run: RunRecord;
      gate: string;
      decision: 'approved' | 'rejected' | 'void';
      by: string;
      reason?: string;
    }
  | {
      type: 'run-halted';
      run: RunRecord;
      stepId: string;
      reason: string;
      /** Every step whose outcome is unknown (a parallel stage can leave several); each needs a decision. */
      unknownSteps?: string[];
    }
  | { type: 'run-finished'; run: RunRecord; followUp?: string };

export interface Notifier {
  notify(event: EngineEvent): Promise<void>;
}
