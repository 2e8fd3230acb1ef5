import type { RunRecord, StepRecord } from '../../src/engine/types';
import type { Plan, PlanStep, StepResult } from '../../src/runbook/types';
import {
  approvalDecidedMessage,
  approvalRequestMessage,
  codeBlock,
  errorMessage,
  escapeMrkdwn,
  fitBlocks,
  haltedMessage,
  helpMessage,
  planMessage,
  runFinishedLine,
  runParentMessage,
  stepResultReply,
  truncateText,
  type SlackMessage,
} from '../../src/slack/blocks';
import { statusMessage } from '../../src/flavours/coremedia/status-blocks';
import { section } from '../../src/slack/blocks/limits';
import { master, node, planFor, status, STATUS, unread } from '../helpers/plan-fixtures';

/** Slack's limits, checked independently of the code under test. */
function assertWithinLimits(msg: SlackMessage): void {
  expect(JSON.parse(JSON.stringify(msg))).toEqual(msg);
  expect(msg.text.length).toBeGreaterThan(0);
  expect(msg.text.length).toBeLessThanOrEqual(3000);
  expect(msg.blocks.length).toBeGreaterThan(0);
  expect(msg.blocks.length).toBeLessThanOrEqual(50);
  let total = 0;
  const texts = (v: unknown): string[] =>
    Array.isArray(v)
      ? v.flatMap(texts)
      : v && typeof v === 'object'
        ? Object.entries(v).flatMap(([k, x]) => (k === 'text' && typeof x === 'string' ? [x] : texts(x)))
        : [];
  const checkButton = (b: { type: string; value?: string; text: { text: string } }) => {
    expect(b.type).toBe('button');
    expect(b.text.text.length).toBeLessThanOrEqual(75);
    expect(b.value!.length).toBeLessThanOrEqual(2000);
    expect(() => JSON.parse(b.value!)).not.toThrow();
    total += b.value!.length;
  };
  for (const block of msg.blocks) {
    for (const t of texts(block)) {
      expect(t.length).toBeGreaterThan(0);
      expect(t.length).toBeLessThanOrEqual(block.type === 'header' ? 150 : 3000);
      expect((t.match(/```/g) ?? []).length % 2).toBe(0); // every fence closed
      total += t.length;
    }
    if (block.type === 'section' && block.accessory) checkButton(block.accessory as never);
    if (block.type === 'actions') {
      expect(block.elements.length).toBeLessThanOrEqual(25);
      const ids = block.elements.map((e) => ('action_id' in e ? e.action_id : ''));
      expect(new Set(ids).size).toBe(ids.length); // Slack rejects a repeated action_id in one block
      block.elements.forEach((e) => checkButton(e as never));
    }
  }
  // msg_blocks_too_long comes at roughly 12k characters over all blocks.
  expect(total).toBeLessThanOrEqual(12_000);
}
const json = (m: SlackMessage) => JSON.stringify(m);

const wide = 'w'.repeat(300);
const bigSql = `SELECT ${Array.from({ length: 200 }, (_, i) => `col_${i}`).join(', ')} FROM t -- \`\`\` <!channel>`;
const manyStep = (i: number): PlanStep => ({
  id: `step-${i}--rls-${i}`,
  templateId: `step-${i % 3}`,
  title: `Step ${i} ${wide}`,
  node: `rls-${i}`,
  engine: i % 2 ? 'mysql' : 'postgres',
  risk: i % 3 === 0 ? 'destructive' : 'read',
  action: { kind: 'sql', sql: `${bigSql} /* ${i} */`, params: [{ literal: wide }] },
  captures: [],
  check: { kind: 'affected-rows', equals: 1 },
  stage: Math.floor(i / 10),
  gate: i % 3 === 0 ? 'big-gate' : null,
});
const STEPS = Array.from({ length: 120 }, (_, i) => manyStep(i));
const BIG_PLAN: Plan = { ...planFor('rls-3'), steps: STEPS, warnings: Array(80).fill(`careful ${wide}`) };
const ERROR = 'E'.repeat(10_000);
const RUN: RunRecord = {
  ...{ id: 'live-20261121-094514-0d8d', topology: 'live', runbook: 'big', target: null, requester: 'U123' },
  ...{ state: 'failed', planHash: BIG_PLAN.hash, createdAt: '2026-11-21T09:45:14.000Z' },
  ...{ updatedAt: '2026-11-21T09:46:00.000Z', reason: ERROR, dryRun: false },
};
const HUGE_RESULT: StepResult = {
  ok: false,
  rows: Array.from({ length: 1000 }, (_, r) =>
    Object.fromEntries(
      Array.from({ length: 30 }, (_, c) => [`column_${c}_${wide}`, `${r}:${c}:${wide}\`\`\``]),
    ),
  ),
  rowCount: 1000,
  ...{ affectedRows: 0, exitCode: 1, stdoutTail: 'out\n'.repeat(20_000), stderrTail: ERROR, bytes: 1 },
  ...{
    durationMs: 12,
    captured: Object.fromEntries(STEPS.map((s) => [s.id, wide])),
    error: ERROR,
    note: ERROR,
  },
};
const HUGE_STATUS = status([
  master,
  ...Array.from({ length: 200 }, (_, i) =>
    i % 10 === 9
      ? { ...unread(`rls-${i}`, `unreachable: ${wide}`, false), engine: 'mysql' as const }
      : node(`rls-${i}`, { engine: 'mysql', replicatorRemote: 1000 + (i % 3), replicatorIdRows: i % 4 }),
  ),
]);

describe('every renderer stays within Slack limits whatever the input', () => {
  const records: StepRecord[] = STEPS.map((s) => ({
    ...{ stepId: s.id, state: 'failed', attempts: 1, startedAt: null, finishedAt: null },
    ...{ result: HUGE_RESULT, awaitingSince: null },
  }));
  const cases: [string, () => SlackMessage, string | RegExp][] = [
    ['200-slave status', () => statusMessage(HUGE_STATUS, Array(30).fill(wide)), 'more nodes not shown'],
    [
      '120-step plan',
      () => planMessage(BIG_PLAN),
      /more steps? not shown — run `recover plan live slave-from-master-sql --target rls-3`/,
    ],
    ['10 000-char error', () => errorMessage(ERROR, ERROR), 'truncated: 10000 characters in all'],
    ['1000 wide rows', () => stepResultReply(STEPS[0]!, HUGE_RESULT), '995 more rows not shown'],
    [
      '120-step run',
      () => runParentMessage(RUN, BIG_PLAN, records),
      /more steps not shown — run `recover timeline/,
    ],
    ['120-step gate', () => approvalRequestMessage(RUN, 'big-gate', STEPS, 'h'.repeat(64)), 'not shown'],
    [
      'decided gate',
      () => approvalDecidedMessage(RUN, 'g', STEPS, 'rejected', 'U9', 'x', ERROR),
      'not shown',
    ],
    ['halted', () => haltedMessage(RUN, [STEPS[0]!.id], ERROR), 'characters in all'],
    [
      'halted on 20 steps',
      () =>
        haltedMessage(
          RUN,
          STEPS.slice(0, 20).map((s) => s.id),
          ERROR,
        ),
      '…',
    ],
    ['finished', () => runFinishedLine(RUN), 'characters in all'],
    ['help', () => helpMessage(Array(500).fill(wide), Array(500).fill(wide)), '…'],
  ];
  test.each(cases)('%s', (_name, render, note) => {
    const msg = render();
    assertWithinLimits(msg);
    if (typeof note === 'string') expect(json(msg)).toContain(note);
    else expect(json(msg)).toMatch(note);
  });

  test('a small status, plan and result fit untouched (no truncation note)', () => {
    for (const msg of [statusMessage(STATUS, ['a']), planMessage(planFor('rls-3'))]) {
      assertWithinLimits(msg);
      expect(json(msg)).not.toMatch(/not shown|truncated/);
    }
  });

  test('the 200-slave status keeps the proposal, warnings and every button', () => {
    const msg = statusMessage(HUGE_STATUS, ['slave-from-master-sql']);
    expect(json(msg)).toContain('*Dedicated sequence number:*');
    expect(json(msg)).toContain(':warning:');
    expect(json(msg)).toContain('run `recover status --topology live` in a terminal for all');
    const actions = msg.blocks.filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(1);
  });

  test('the 120-step plan keeps its Start button and approvals line', () => {
    const msg = planMessage(BIG_PLAN);
    expect(json(msg)).toContain('*Approvals needed:* 1 (big-gate: 40 steps)');
    expect(json(msg)).toContain('recover_run_start');
  });
});

describe('limits helpers', () => {
  test('truncateText keeps short text and says what it cut', () => {
    expect(truncateText('short', 10)).toBe('short');
    const cut = truncateText('x'.repeat(100), 40, '(cut)');
    expect(cut).toHaveLength(40);
    expect(cut.endsWith(' (cut)')).toBe(true);
    expect(truncateText('x'.repeat(100), 5, 'a very long note')).toHaveLength(5);
  });

  test('truncateText never splits an emoji or an escape entity', () => {
    expect(truncateText('ab😀cd'.repeat(3), 6, '…')).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(truncateText(escapeMrkdwn('<<<<<<<<<<'), 12, '…')).toBe('&lt;&lt; …');
  });

  test('escapeMrkdwn makes mentions, links and broadcasts inert', () => {
    expect(escapeMrkdwn('<!channel> & <@U1> <http://x|y>')).toBe(
      '&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;http://x|y&gt;',
    );
    expect(escapeMrkdwn('@here')).not.toBe('@here');
  });

  test('codeBlock is fenced, escaped, cannot be broken out of, and truncates by lines', () => {
    const block = codeBlock('a ``` <b>\n```\n@channel', 200);
    expect(block.startsWith('```\n') && block.endsWith('\n```')).toBe(true);
    expect(block.slice(3, -3)).not.toContain('```');
    expect(block).toContain('&lt;b&gt;');
    const long = codeBlock(Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n'), 300);
    expect(long.length).toBeLessThanOrEqual(300);
    expect(long).toMatch(/… \d+ more lines not shown\n```$/);
  });

  test('fitBlocks cuts to 50 blocks with one note saying what was cut', () => {
    const blocks = Array.from({ length: 80 }, (_, i) => section(`block ${i}`));
    expect(fitBlocks(blocks.slice(0, 50), 'x')).toHaveLength(50);
    const fitted = fitBlocks(blocks, (n) => `${n} more parts not shown`);
    expect(fitted).toHaveLength(50);
    expect(JSON.stringify(fitted[49])).toContain('31 more parts not shown');
    const heavy = fitBlocks(
      Array.from({ length: 10 }, () => section('y'.repeat(2900))),
      'cut',
    );
    expect(heavy.length).toBeLessThan(10);
    expect(JSON.stringify(heavy.at(-1))).toContain('cut');
  });
});
