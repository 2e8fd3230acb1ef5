import type { Button, KnownBlock } from '@slack/types';
import type { RunRecord, StepRecord, StepState } from '../../src/engine/types';
import type { StepResult } from '../../src/runbook/types';
import {
  approvalDecidedMessage,
  approvalRequestMessage,
  haltedMessage,
  runFinishedLine,
  runParentMessage,
  stepResultReply,
  type ApprovalButtonValue,
  type DecideButtonValue,
  type SlackMessage,
} from '../../src/slack/blocks';
import { ACTION } from '../../src/slack/constants';
import { planFor } from '../helpers/plan-fixtures';

const textOf = (m: SlackMessage): string => {
  const walk = (v: unknown): string[] =>
    Array.isArray(v)
      ? v.flatMap(walk)
      : v && typeof v === 'object'
        ? Object.entries(v).flatMap(([k, x]) => (k === 'text' && typeof x === 'string' ? [x] : walk(x)))
        : [];
  return walk(m.blocks).join('\n');
};
const buttonsOf = (m: SlackMessage): Button[] =>
  m.blocks.flatMap((b: KnownBlock) =>
    b.type === 'actions'
      ? (b.elements as Button[])
      : b.type === 'section' && b.accessory
        ? [b.accessory as Button]
        : [],
  );

const plan = planFor('rls-3');
const RUN: RunRecord = {
  ...{ id: 'live-20261121-094514-0d8d', topology: 'live', runbook: 'slave-from-master-sql', target: 'rls-3' },
  ...{ requester: 'U123', state: 'running', planHash: plan.hash, createdAt: '2026-11-21T09:45:14.000Z' },
  ...{ updatedAt: '2026-11-21T09:45:17.000Z', reason: null, dryRun: false },
};
const result = (over: Partial<StepResult> = {}): StepResult => ({
  ...{ ok: true, rows: [], rowCount: 0, affectedRows: null, exitCode: null, stdoutTail: null },
  ...{ stderrTail: null, bytes: null, durationMs: 21.4, captured: {}, error: null, note: null },
  ...over,
});
const record = (i: number, state: StepState, r: StepResult | null = null): StepRecord => ({
  ...{ stepId: plan.steps[i]!.id, state, attempts: 1, startedAt: null, finishedAt: null },
  ...{ result: r, awaitingSince: null },
});
const gateSteps = plan.steps.filter((s) => s.gate === 'replicator-rows');

describe('runParentMessage', () => {
  const records = [
    ...[0, 1, 2, 3].map((i) => record(i, 'done', result())),
    record(4, 'failed', result({ ok: false, error: 'permission denied <!here>' })),
  ];

  test('state, requester mention, progress and one line per step', () => {
    const t = textOf(runParentMessage(RUN, plan, records));
    expect(t).toContain(':arrow_forward: *Run `live-20261121-094514-0d8d`: running*');
    expect(t).toContain('requested by <@U123>');
    expect(t).toContain('*Progress:* 4/6 steps done (1 failed)');
    expect(t).toContain(':white_check_mark: `read-changelog--rls-3` on `rls-3` · done · 21 ms');
    expect(t).toContain(
      ':x: `delete-licenses--rls-3` on `rls-3` · failed · 21 ms · permission denied &lt;!here&gt;',
    );
    expect(t).toContain(':white_circle: `set-server-type--rls-3` on `rls-3` · pending');
  });

  test('Abort while the run lives; gone, with the reason, once it ended', () => {
    const [abort] = buttonsOf(runParentMessage(RUN, plan, records));
    expect(abort).toMatchObject({ action_id: ACTION.abortRun, style: 'danger' });
    expect(JSON.parse(abort!.value!)).toEqual({ runId: RUN.id });
    const failed = runParentMessage(
      { ...RUN, state: 'failed', reason: 'step delete-licenses failed' },
      plan,
      records,
    );
    expect(buttonsOf(failed)).toEqual([]);
    expect(textOf(failed)).toContain(':x: *Run `live-20261121-094514-0d8d`: failed*');
    expect(textOf(failed)).toContain('*Reason:* step delete-licenses failed');
  });

  test('a terminal user name stays plain text, never a mention', () => {
    const t = textOf(runParentMessage({ ...RUN, requester: 'alice' }, plan, []));
    expect(t).toContain('requested by alice');
    expect(t).not.toContain('<@');
    expect(t).toContain('*Progress:* 0/6 steps done');
  });
});

describe('stepResultReply', () => {
  test('a read: its SQL, ok, rows as a small table, captured values', () => {
    const r = result({
      rows: [{ sequenceno: 1030, idtag: 'tag-1030', note: null }],
      rowCount: 1,
      captured: { sequenceno: '1030', idtag: 'tag-1030' },
    });
    const t = textOf(stepResultReply(plan.steps[0]!, r));
    expect(t).toContain(':white_check_mark: `read-changelog--rls-3` on `rls-3` (mysql) · :mag: read');
    expect(t).toContain(
      '```\nSELECT * FROM `changelog` WHERE sequenceno = (SELECT max(sequenceno) FROM `changelog`)\n```',
    );
    expect(t).toMatch(/result +ok\nrows +1\nduration +21 ms\ncaptured +sequenceno=1030 {2}idtag=tag-1030/);
    expect(t).toMatch(/sequenceno +idtag +note\n-+ +-+ +-+\n1030 +tag-1030 +NULL/);
  });

  test('a failed write: affected count, exit code, error and note, escaped', () => {
    const r = result({
      ok: false,
      affectedRows: 0,
      exitCode: 2,
      error: 'Duplicate <@U1>',
      note: 'values redacted',
    });
    const t = textOf(stepResultReply(plan.steps[1]!, r));
    expect(t).toContain(':x: `insert-replicator-remote--rls-3`');
    expect(t).toMatch(/result +FAILED\naffected +0\nexit code +2\nduration +21 ms/);
    expect(t).toContain(':x: *Error:* Duplicate &lt;@U1&gt;');
    expect(t).toContain('values redacted');
  });

  test('wide rows: five shown, long values and extra columns cut, and said so', () => {
    const blobs = Object.fromEntries(Array.from({ length: 10 }, (_, c) => [`b${c}`, 'x'.repeat(500)]));
    const rows = Array.from({ length: 40 }, (_, id) => ({ id, ...blobs }));
    const t = textOf(stepResultReply(plan.steps[0]!, result({ rows, rowCount: 40 })));
    expect(t).toContain('rows       40 (first 5 shown)');
    expect(t).toContain('… 35 more rows not shown; 6 more columns not shown');
    expect(t).toMatch(/^id +b0 +b1 +b2 +b3\n/m);
    expect(t).toMatch(/^4 +x{22} … +x{22} …/m);
    expect(t).not.toMatch(/^5 /m);
    expect(t).not.toContain('x'.repeat(30));
  });
});

describe('approval messages', () => {
  const value: ApprovalButtonValue = { runId: RUN.id, gate: 'replicator-rows', planHash: plan.hash };

  test('the request shows every step of the gate with its SQL, and who cannot approve', () => {
    const m = approvalRequestMessage(RUN, 'replicator-rows', gateSteps, plan.hash);
    const t = textOf(m);
    expect(gateSteps).toHaveLength(3);
    for (const s of gateSteps) {
      expect(t).toContain(`\`${s.id}\` on \`rls-3\` (mysql) · :rotating_light: DESTRUCTIVE`);
      expect(t).toContain(s.action.kind === 'sql' ? s.action.sql : '?');
    }
    expect(t).toContain(
      ':rotating_light: *Approval needed*: gate `replicator-rows` of run `live-20261121-094514-0d8d` — 3 steps',
    );
    expect(t).toContain('<@U123> started this run and cannot approve it: a second person must.');
  });

  test('Approve (primary) and Reject (danger) carry the run, gate and plan hash', () => {
    const [approve, reject] = buttonsOf(approvalRequestMessage(RUN, 'replicator-rows', gateSteps, plan.hash));
    expect(approve).toMatchObject({ action_id: ACTION.approve, style: 'primary', text: { text: 'Approve' } });
    expect(reject).toMatchObject({ action_id: ACTION.reject, style: 'danger', text: { text: 'Reject' } });
    expect(JSON.parse(approve!.value!)).toEqual(value);
    expect(JSON.parse(reject!.value!)).toEqual(value);
  });

  test('after the decision: the same steps, no buttons, who and when', () => {
    const at = '2026-11-21T09:45:17.000Z';
    const approved = approvalDecidedMessage(RUN, 'replicator-rows', gateSteps, 'approved', 'U456', at);
    expect(buttonsOf(approved)).toEqual([]);
    expect(textOf(approved)).toContain(':white_check_mark: Approved by <@U456> at 09:45 UTC');
    expect(textOf(approved)).toContain("VALUES ('replicator_tag', ?)");
    const rejected = approvalDecidedMessage(RUN, 'g', gateSteps, 'rejected', 'bob', at, 'wrong <target>');
    expect(textOf(rejected)).toContain(':no_entry: Rejected by bob at 09:45 UTC: wrong &lt;target&gt;');
    const voided = approvalDecidedMessage(
      RUN,
      'g',
      gateSteps,
      'void',
      'U456',
      at,
      'rls-2 left the in-sync set',
    );
    expect(textOf(voided)).toContain(':recycle: Voided by <@U456> at 09:45 UTC: rls-2 left the in-sync set');
    expect(textOf(voided)).toContain('a new approval request follows');
  });
});

describe('haltedMessage and runFinishedLine', () => {
  test('halted: the reason and three decide buttons', () => {
    const stepId = plan.steps[2]!.id;
    const m = haltedMessage({ ...RUN, state: 'halted' }, [stepId], 'worker died: outcome <unknown>');
    expect(textOf(m)).toContain(`halted* at \`${stepId}\`: worker died: outcome &lt;unknown&gt;`);
    const buttons = buttonsOf(m);
    expect(buttons.map((b) => b.action_id)).toEqual([ACTION.decide, ACTION.decide, ACTION.decide]);
    const values = buttons.map((b) => JSON.parse(b.value!) as DecideButtonValue);
    expect(values).toEqual(
      (['retry', 'mark-done', 'abort'] as const).map((choice) => ({ runId: RUN.id, stepId, choice })),
    );
    expect(buttons[2]!.style).toBe('danger');
  });

  test('halted on several unknown steps: retry and mark-done for each, one abort', () => {
    const [a, b] = [plan.steps[2]!.id, plan.steps[3]!.id];
    const m = haltedMessage({ ...RUN, state: 'halted' }, [a, b], 'a parallel stage was cut short');
    expect(textOf(m)).toContain(`halted* at \`${a}\`, \`${b}\``);
    const values = buttonsOf(m).map((x) => JSON.parse(x.value!) as DecideButtonValue);
    expect(values.map((v) => [v.stepId, v.choice])).toEqual([
      [a, 'retry'],
      [a, 'mark-done'],
      [b, 'retry'],
      [b, 'mark-done'],
      [a, 'abort'],
    ]);
  });

  test('finished: one line with the outcome', () => {
    expect(textOf(runFinishedLine({ ...RUN, state: 'done' }))).toBe(
      ':white_check_mark: Run `live-20261121-094514-0d8d` finished: every step done',
    );
    expect(textOf(runFinishedLine({ ...RUN, state: 'aborted', reason: 'rejected by <@U9>' }))).toBe(
      ':no_entry_sign: Run `live-20261121-094514-0d8d` aborted: rejected by &lt;@U9&gt;',
    );
  });
});
