import type { RunRecord, StepRecord } from '../../src/engine/types';
import type { Plan, PlanStep, StepResult } from '../../src/runbook/types';
import { runParentMessage } from '../../src/slack/blocks';
import { blocksAsText } from '../helpers/blocks-text';

/** A checklist step's items, each with the stage its probe reported, in the run's parent message. */
const step: PlanStep = {
  id: 'acknowledgements--boston',
  templateId: 'acknowledgements',
  title: 'Steps 5–6',
  node: 'boston',
  engine: null,
  risk: 'write',
  action: {
    kind: 'checklist',
    items: [],
    until: { kind: 'exit-code', equals: 0 },
    intervalMs: 500,
    timeoutMs: 60_000,
    stages: ['owes-ack', 'packet-delivered', 'imported', 'sibling-exported', 'awaiting-acks', 'unlocked'],
  },
  captures: [],
  check: null,
  stage: 6,
  gate: null,
};
const plan = {
  runbook: 'multisite-restore',
  topology: 'sampl',
  target: 'boston',
  steps: [step],
} as unknown as Plan;
const run: RunRecord = {
  ...{ id: 'sampl-20261201-100000-abcd', topology: 'sampl', runbook: 'multisite-restore', target: 'boston' },
  ...{
    requester: 'alice',
    state: 'running',
    planHash: 'f'.repeat(64),
    createdAt: '2026-12-01T10:00:00.000Z',
  },
  ...{ updatedAt: '2026-12-01T10:00:05.000Z', reason: null, dryRun: false },
};
const waiting: StepResult = {
  ...{
    ok: false,
    rows: [],
    rowCount: 0,
    affectedRows: null,
    exitCode: null,
    stdoutTail: null,
    stderrTail: null,
  },
  ...{ bytes: null, durationMs: 900, captured: {}, note: '1 of 3 done', waiting: true },
  error: 'Restoration on boston: awaiting-acks (awaiting tokyo); Restoration on tokyo: owes-ack (…)',
  checklist: [
    {
      id: 'boston',
      title: 'Restoration on boston',
      node: 'boston',
      state: 'pending',
      stage: 'awaiting-acks',
      detail: 'awaiting tokyo',
    },
    {
      id: 'paris',
      title: 'Restoration on paris',
      node: 'paris',
      state: 'done',
      stage: 'sibling-exported',
      detail: 'acknowledgement exported to boston',
    },
    {
      id: 'tokyo',
      title: 'Restoration on tokyo',
      node: 'tokyo',
      state: 'unknown',
      detail: 'connect ECONNREFUSED',
    },
  ],
};
const record: StepRecord = {
  ...{ stepId: step.id, state: 'pending', attempts: 2, startedAt: null, finishedAt: null },
  ...{ result: waiting, awaitingSince: null, waitingSince: '2026-12-01T10:00:01.000Z' },
};

it('shows each item of a waiting checklist on its own line, with its stage among the declared ones', () => {
  const text = blocksAsText(runParentMessage(run, plan, [record]).blocks);
  expect(text).toContain(':hourglass: Restoration on boston: *awaiting-acks (5/6)* · awaiting tokyo');
  expect(text).toContain(
    ':white_check_mark: Restoration on paris: *sibling-exported (4/6)* · acknowledgement exported to boston',
  );
  expect(text).toContain(':grey_question: Restoration on tokyo: connect ECONNREFUSED');
  // The joined error is not repeated on the step's own line: the items say it.
  expect(text).not.toContain('Restoration on boston: awaiting-acks (awaiting tokyo);');
});
