import type { Access } from '../../src/config/topology';
import {
  canRequest,
  decideApproval,
  isApprover,
  membersOf,
  resolveGroups,
  type ApprovalInput,
} from '../../src/engine/approval-policy';
import type { Approval, RunRecord, StepRecord } from '../../src/engine/types';

const CURRENT = '1a2b3c4d5e6f00112233';
const OLDER = '9f8e7d6c5b4a99887766';
const WAITING_SINCE = '2024-05-01T10:00:00.000Z';
const at = (minutes: number, ms = 0) => new Date(Date.parse(WAITING_SINCE) + minutes * 60_000 + ms);

const access: Access = { approvers: ['bob', 'S-dba'], approvalTtlMinutes: 15 };
const groups = { 'S-dba': ['dave', 'erin'], 'S-other': ['mallory'] };

const run: RunRecord = {
  id: 'prod-live-20240501-100000-ab12',
  topology: 'prod-live',
  runbook: 'master-from-slave',
  target: null,
  requester: 'alice',
  state: 'awaiting-approval',
  planHash: CURRENT,
  createdAt: WAITING_SINCE,
  updatedAt: WAITING_SINCE,
  reason: null,
  dryRun: false,
};

function step(
  stepId: string,
  state: StepRecord['state'],
  awaitingSince: string | null = WAITING_SINCE,
): StepRecord {
  return { stepId, state, attempts: 0, startedAt: null, finishedAt: null, result: null, awaitingSince };
}

function approval(planHash: string, voidedAt: string | null = null): Approval {
  return {
    gate: 'g1',
    planHash,
    approver: 'bob',
    at: '2024-05-01T10:01:00.000Z',
    voidedAt,
    consumedAt: null,
  };
}

function input(over: Partial<ApprovalInput> = {}): ApprovalInput {
  return {
    run,
    gate: 'g1',
    gateSteps: [step('set-a--rls1', 'awaiting-approval'), step('set-a--rls2', 'awaiting-approval')],
    approver: { id: 'bob' },
    presentedPlanHash: CURRENT,
    currentPlanHash: CURRENT,
    access,
    groups,
    now: at(5),
    existing: null,
    ...over,
  };
}

type Case = [name: string, over: Partial<ApprovalInput>, code: string | null, message?: string];

describe('decideApproval', () => {
  const cases: Case[] = [
    ['a listed approver within the TTL', {}, null],
    ['a member of a listed group', { approver: { id: 'dave' } }, null],
    ['exactly at the TTL boundary', { now: at(15) }, null],
    ['a voided earlier approval does not count', { existing: approval(CURRENT, WAITING_SINCE) }, null],
    [
      'the requester',
      { approver: { id: 'alice', name: 'alice' } },
      'self-approval',
      'alice started this run and cannot approve it: a second responder must',
    ],
    [
      'the requester, even when listed as approver',
      { approver: { id: 'alice' }, access: { ...access, approvers: ['alice'] } },
      'self-approval',
    ],
    [
      'someone not listed',
      { approver: { id: 'mallory', name: 'Mallory' } },
      'not-allowed',
      'Mallory is not an approver for prod-live',
    ],
    ['a member of an unlisted group', { approver: { id: 'mallory' } }, 'not-allowed'],
    [
      'one millisecond past the TTL',
      { now: at(15, 1) },
      'expired',
      'approval request expired: it waited 16 min, limit 15 min. Recover asks again with the plan as it is now: approve the new request',
    ],
    [
      'expiry counts from the first step that waited',
      {
        gateSteps: [step('a', 'awaiting-approval', at(-2).toISOString()), step('b', 'awaiting-approval')],
        now: at(14),
      },
      'expired',
      'waited 16 min, limit 15 min',
    ],
    [
      'a button from an older plan',
      { presentedPlanHash: OLDER },
      'stale-plan',
      'this approval names plan 9f8e7d6c5b4a but the current plan is 1a2b3c4d5e6f: look at the new plan and approve that',
    ],
    [
      'a double click',
      { existing: approval(CURRENT), gateSteps: [step('set-a--rls1', 'running')] },
      'already-approved',
      'bob already approved gate "g1" of plan 1a2b3c4d5e6f at 2024-05-01T10:01:00.000Z: counted once',
    ],
    [
      'a gate step that is not waiting',
      { gateSteps: [step('set-a--rls1', 'awaiting-approval'), step('set-a--rls2', 'pending')] },
      'not-awaiting',
      'gate "g1" is not waiting for approval (set-a--rls2 is pending)',
    ],
    ['a gate without steps', { gateSteps: [] }, 'not-awaiting'],
    [
      'a waiting step without a start time',
      { gateSteps: [step('a', 'awaiting-approval', null)] },
      'not-awaiting',
    ],
    [
      'a run that has ended',
      { run: { ...run, state: 'aborted' } },
      'run-ended',
      'has already ended (aborted)',
    ],
    [
      'a run that ended, clicked by the requester',
      { run: { ...run, state: 'done' }, approver: { id: 'alice' } },
      'run-ended',
    ],
  ];

  // Objects, not arrays: jest would pass a missing trailing column as the `done` callback.
  it.each(cases.map(([name, over, code, message]) => ({ name, over, code, message })))(
    '$name',
    ({ over, code, message }) => {
      const decision = decideApproval(input(over));
      if (code === null) {
        expect(decision).toEqual({ ok: true });
        return;
      }
      expect(decision).toMatchObject({ ok: false, code });
      if (message && !decision.ok) expect(decision.message).toContain(message);
    },
  );
});

describe('who may approve or request', () => {
  const members = membersOf(groups);

  it.each([
    ['bob', true],
    ['dave', true],
    ['erin', true],
    ['mallory', false],
    ['carol', false],
  ])('isApprover(%s) is %s', (id, expected) => {
    expect(isApprover({ id }, access, members)).toBe(expected);
  });

  it('anyone may request when no requesters are configured; otherwise only those listed, directly or by group', () => {
    expect(canRequest({ id: 'anyone' }, access, groups)).toBe(true);
    const limited: Access = { ...access, requesters: ['alice', 'S-other'] };
    expect(canRequest({ id: 'alice' }, limited, groups)).toBe(true);
    expect(canRequest({ id: 'mallory' }, limited, groups)).toBe(true);
    expect(canRequest({ id: 'bob' }, limited, groups)).toBe(false);
  });

  it('resolves groups from an async directory once, so the decision stays pure', async () => {
    const asked: string[] = [];
    const resolved = await resolveGroups({ ...access, requesters: ['S-ops'] }, async (id) => {
      asked.push(id);
      return id.startsWith('S-') ? [`${id}-member`] : [];
    });
    expect(asked.sort()).toEqual(['S-dba', 'S-ops', 'bob']);
    expect(resolved).toEqual({ 'S-dba': ['S-dba-member'], 'S-ops': ['S-ops-member'] });
    expect(decideApproval(input({ approver: { id: 'S-dba-member' }, groups: resolved }))).toEqual({
      ok: true,
    });
  });
});
