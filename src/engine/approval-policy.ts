import type { Access } from '../config/topology';
import { TERMINAL_RUN_STATES, type Actor, type Approval, type RunRecord, type StepRecord } from './types';

export type ApprovalRefusal =
  | 'self-approval'
  | 'not-allowed'
  | 'expired'
  | 'stale-plan'
  | 'already-approved'
  | 'not-awaiting'
  | 'run-ended';

export type ApprovalDecision = { ok: true } | { ok: false; code: ApprovalRefusal; message: string };

export interface ApprovalInput {
  run: RunRecord;
  gate: string;
  /** The ledger records of every step in the gate. */
  gateSteps: StepRecord[];
  approver: Actor;
  /** The plan hash on the button the approver clicked. */
  presentedPlanHash: string;
  currentPlanHash: string;
  access: Access;
  /** Group id → member ids (the config's terminal groups, or Slack user groups resolved beforehand). */
  groups: Record<string, string[]>;
  now: Date;
  /** The gate's live (non-void) approval, if any. */
  existing: Approval | null;
}

/** Who is in a group; lets Slack plug in its user groups where the terminal uses config. */
export type GroupMembers = (groupId: string) => readonly string[];

/** Listed directly, or as a member of a listed group (one level: groups do not nest). */
export function isApprover(actor: Actor, access: Access, members: GroupMembers): boolean {
  return listed(actor, access.approvers, members);
}

/** No requesters list means anyone who can reach the bot may start runs. */
export function canRequest(actor: Actor, access: Access, groups: Record<string, string[]>): boolean {
  return access.requesters === undefined || listed(actor, access.requesters, membersOf(groups));
}

export function membersOf(groups: Record<string, string[]>): GroupMembers {
  return (groupId) => groups[groupId] ?? [];
}

/**
 * For an async directory (Slack user groups): fetch the members of every principal the access
 * lists once, so decideApproval can stay pure. Principals that are not groups resolve to [].
 */
export async function resolveGroups(
  access: Access,
  resolve: (groupId: string) => Promise<readonly string[]>,
): Promise<Record<string, string[]>> {
  const ids = [...new Set([...access.approvers, ...(access.requesters ?? [])])];
  const members = await Promise.all(
    ids.map(async (id): Promise<[string, string[]]> => [id, [...(await resolve(id))]]),
  );
  return Object.fromEntries(members.filter(([, m]) => m.length > 0));
}

/**
 * Whether this click approves the gate. Checked in this order: the run is over, who clicks
 * (not the requester, an approver), the plan they saw is the current one, a double click,
 * the steps are waiting, and the wait is within the TTL.
 */
export function decideApproval(input: ApprovalInput): ApprovalDecision {
  const { run, gate, approver, access } = input;
  const who = approver.name ?? approver.id;
  if (TERMINAL_RUN_STATES.includes(run.state))
    return no('run-ended', `run ${run.id} has already ended (${run.state}): there is nothing to approve`);
  if (approver.id === run.requester)
    return no('self-approval', `${who} started this run and cannot approve it: a second responder must`);
  if (!isApprover(approver, access, membersOf(input.groups)))
    return no(
      'not-allowed',
      `${who} is not an approver for ${run.topology}: ask someone listed in its access.approvers (directly or through a group)`,
    );
  if (input.presentedPlanHash !== input.currentPlanHash)
    return no(
      'stale-plan',
      `this approval names plan ${short(input.presentedPlanHash)} but the current plan is ${short(input.currentPlanHash)}: look at the new plan and approve that`,
    );
  const existing = input.existing;
  if (existing && existing.voidedAt === null && existing.planHash === input.currentPlanHash)
    return no(
      'already-approved',
      `${existing.approver} already approved gate "${gate}" of plan ${short(existing.planHash)} at ${existing.at}: counted once`,
    );
  const notWaiting = input.gateSteps.filter((s) => s.state !== 'awaiting-approval');
  if (input.gateSteps.length === 0 || notWaiting.length > 0) {
    const states = notWaiting.map((s) => `${s.stepId} is ${s.state}`).join(', ');
    return no('not-awaiting', `gate "${gate}" is not waiting for approval${states ? ` (${states})` : ''}`);
  }
  const since = earliest(input.gateSteps.map((s) => s.awaitingSince));
  if (since === null)
    return no(
      'not-awaiting',
      `gate "${gate}" has no record of when it began waiting; ask for a fresh approval`,
    );
  const waitedMs = input.now.getTime() - since;
  if (waitedMs > access.approvalTtlMinutes * 60_000)
    return no(
      'expired',
      `approval request expired: it waited ${Math.ceil(waitedMs / 60_000)} min, limit ${access.approvalTtlMinutes} min. Recover asks again with the plan as it is now: approve the new request`,
    );
  return { ok: true };
}

function listed(actor: Actor, principals: readonly string[], members: GroupMembers): boolean {
  return principals.some((p) => p === actor.id || members(p).includes(actor.id));
}

/** The expiry counts from the first step of the gate that began waiting. */
function earliest(times: (string | null)[]): number | null {
  const ms = times.map((t) => (t === null ? NaN : Date.parse(t)));
  if (ms.some((t) => Number.isNaN(t))) return null;
  return Math.min(...ms);
}

function short(hash: string): string {
  return hash.slice(0, 12);
}

function no(code: ApprovalRefusal, message: string): ApprovalDecision {
  return { ok: false, code, message };
}
