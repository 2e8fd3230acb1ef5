import type { KnownBlock, SectionBlock } from '@slack/types';
import {
  TERMINAL_RUN_STATES,
  type RunRecord,
  type RunState,
  type StepRecord,
  type StepState,
} from '../../engine/types';
import { alignedTable } from '../../render/table';
import type { ChecklistItemResult, Plan, PlanStep, StepResult } from '../../runbook/types';
import { stageLabel } from '../../engine/checklist-stage';
import { ACTION } from '../constants';
import {
  actions,
  button,
  codeBlock,
  composeMessage,
  context,
  escapeMrkdwn,
  lineSections,
  section,
  truncateText,
} from './limits';
import { actionText, inline, plural, stepHeading, userRef } from './parts';
import type { DecideButtonValue, SlackMessage } from './types';

export { approvalDecidedMessage, approvalRequestMessage, type ApprovalDecision } from './approval';

const RUN_ICON: Record<RunState, string> = {
  running: ':arrow_forward:',
  'awaiting-approval': ':hourglass_flowing_sand:',
  halted: ':warning:',
  done: ':white_check_mark:',
  failed: ':x:',
  aborted: ':no_entry_sign:',
};
const STEP_ICON: Record<StepState, string> = {
  pending: ':white_circle:',
  'awaiting-approval': ':hourglass_flowing_sand:',
  running: ':arrows_counterclockwise:',
  done: ':white_check_mark:',
  failed: ':x:',
  skipped: ':fast_forward:',
  unknown: ':grey_question:',
};
const RESULT_ROWS = 5;

/** The run's one parent message, updated in place as steps move. */
export function runParentMessage(run: RunRecord, plan: Plan, steps: StepRecord[]): SlackMessage {
  const byId = new Map(steps.map((s) => [s.stepId, s]));
  const states = plan.steps.map((s) => byId.get(s.id)?.state ?? 'pending');
  const count = (st: StepState) => states.filter((s) => s === st).length;
  const extra = (['failed', 'unknown', 'skipped'] as const)
    .filter((st) => count(st) > 0)
    .map((st) => `${count(st)} ${st}`);
  const ended = TERMINAL_RUN_STATES.includes(run.state);
  const target = run.target ? ` (target ${inline(run.target)})` : '';

  const body: KnownBlock[] = [
    section(
      `${RUN_ICON[run.state]} *Run ${inline(run.id)}: ${run.state}*${run.dryRun ? ' (dry run)' : ''}\n` +
        `${inline(run.runbook)} on ${inline(run.topology)}${target} · requested by ${userRef(run.requester)} · ` +
        `plan ${inline(run.planHash.slice(0, 12))}\n` +
        `*Progress:* ${count('done')}/${plural(plan.steps.length, 'step')} done${extra.length ? ` (${extra.join(', ')})` : ''}`,
    ),
  ];
  if (run.reason && ['failed', 'halted', 'aborted'].includes(run.state))
    body.push(section(truncateText(`*Reason:* ${escapeMrkdwn(run.reason)}`, 1500)));
  body.push(
    ...lineSections(
      plan.steps.map((s, i) => stepLine(s, byId.get(s.id), states[i]!)),
      6000,
      (n) =>
        `… ${plural(n, 'more step')} not shown — run ${inline(`recover timeline ${run.id}`)} in a terminal for all`,
    ),
  );

  const abort = ended
    ? null
    : actions([
        button({
          text: 'Abort',
          actionId: ACTION.abortRun,
          style: 'danger',
          value: { runId: run.id },
          confirm: {
            title: 'Abort the run?',
            text: `Abort run ${run.id}? Steps not yet run will not run.`,
            confirm: 'Abort',
          },
        }),
      ]);
  const fallback = `Run ${run.id} (${run.runbook} on ${run.topology}): ${run.state}, ${count('done')}/${plan.steps.length} steps done`;
  return composeMessage(escapeMrkdwn(fallback), body, 'Some of this run not shown', [abort]);
}

function stepLine(step: PlanStep, record: StepRecord | undefined, state: StepState): string {
  const r = record?.result;
  const bits = [`${STEP_ICON[state]} ${inline(step.id)} on ${inline(step.node)}`, state];
  if (r) bits.push(`${Math.round(r.durationMs)} ms`);
  if (state === 'awaiting-approval' && step.gate) bits.push(`waiting for approval of ${inline(step.gate)}`);
  // A checklist shows each item's own line below (its stage, updated in place): not the joined error.
  if (r?.error && !r.checklist?.length) bits.push(escapeMrkdwn(truncateText(r.error, 150, '…')));
  const items = r?.checklist?.map((c) => `      ${checklistItemLine(step, c)}`) ?? [];
  return [bits.join(' · '), ...items].join('\n');
}

function checklistItemLine(step: PlanStep, c: ChecklistItemResult): string {
  const icon =
    c.state === 'done' ? ':white_check_mark:' : c.state === 'unknown' ? ':grey_question:' : ':hourglass:';
  const stages = step.action.kind === 'checklist' ? step.action.stages : undefined;
  const stage = c.stage ? `*${escapeMrkdwn(stageLabel(c.stage, stages))}* · ` : '';
  return `${icon} ${escapeMrkdwn(c.title)}: ${stage}${escapeMrkdwn(truncateText(c.detail, 200, '…'))}`;
}

/** A thread reply per step: what ran, exactly, and what came back. */
export function stepResultReply(step: PlanStep, result: StepResult): SlackMessage {
  const icon = result.ok ? ':white_check_mark:' : result.waiting ? ':hourglass_flowing_sand:' : ':x:';
  const body: KnownBlock[] = [
    section(`${icon} ${stepHeading(step)}\n${escapeMrkdwn(truncateText(step.title, 300))}`),
    section(codeBlock(actionText(step.action), 2000)),
    section(codeBlock(summaryTable(step, result), 1500)),
  ];
  const rows = rowsTable(result);
  if (rows) body.push(rows);
  if (result.checklist)
    body.push(
      ...lineSections(
        result.checklist.map((c) => checklistItemLine(step, c)),
        2500,
        (n) => `… ${n} more items`,
      ),
    );
  if (result.error && result.waiting)
    body.push(
      section(`:hourglass_flowing_sand: *Not yet:* ${escapeMrkdwn(truncateText(result.error, 1500))}`),
    );
  else if (result.error) body.push(section(`:x: *Error:* ${escapeMrkdwn(truncateText(result.error, 1500))}`));
  if (result.stdoutTail) body.push(section(`*stdout (tail)*\n${codeBlock(result.stdoutTail, 1500)}`));
  if (result.stderrTail) body.push(section(`*stderr (tail)*\n${codeBlock(result.stderrTail, 1500)}`));
  if (result.note) body.push(context(escapeMrkdwn(truncateText(result.note, 1000))));

  const outcome = result.ok
    ? 'ok'
    : `${result.waiting ? 'waiting' : 'FAILED'}${result.error ? `: ${result.error}` : ''}`;
  const fallback = `${result.ok ? '✓' : result.waiting ? '…' : '✗'} ${step.id} on ${step.node}: ${outcome}`;
  return composeMessage(
    escapeMrkdwn(truncateText(fallback, 500, '…')),
    body,
    'Part of this result not shown',
  );
}

function summaryTable(step: PlanStep, r: StepResult): string {
  const kv: [string, string][] = [['result', r.ok ? 'ok' : 'FAILED']];
  if (r.rowCount > 0 || r.rows.length > 0 || step.risk === 'read')
    kv.push(['rows', `${r.rowCount}${r.rowCount > RESULT_ROWS ? ` (first ${RESULT_ROWS} shown)` : ''}`]);
  if (r.affectedRows !== null) kv.push(['affected', String(r.affectedRows)]);
  if (r.exitCode !== null) kv.push(['exit code', String(r.exitCode)]);
  if (r.bytes !== null) kv.push(['bytes', String(r.bytes)]);
  kv.push(['duration', `${Math.round(r.durationMs)} ms`]);
  const captured = Object.entries(r.captured);
  if (captured.length > 0)
    kv.push(['captured', captured.map(([k, v]) => `${k}=${truncateText(String(v), 60, '…')}`).join('  ')]);
  return kv.map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n');
}

/** Up to five rows as a monospace table; long values and extra columns cut, and said so. */
function rowsTable(r: StepResult): SectionBlock | null {
  const rows = r.rows.slice(0, RESULT_ROWS);
  if (rows.length === 0) return null;
  const allColumns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  // As many columns as fit in ~120 characters, so the table does not wrap on a laptop screen.
  const keys: string[] = [];
  let width = 0;
  for (const k of allColumns) {
    const w = Math.max(Math.min(k.length, 20), ...rows.map((row) => Math.min(cell(row[k]).length, 24))) + 2;
    if (keys.length > 0 && width + w > 120) break;
    keys.push(k);
    width += w;
  }
  const table = alignedTable(
    keys.map((c) => truncateText(c, 20, '…')),
    rows.map((row) => keys.map((k) => truncateText(cell(row[k]), 24, '…'))),
  );
  const notes: string[] = [];
  const total = Math.max(r.rowCount, r.rows.length);
  if (total > rows.length) notes.push(`… ${plural(total - rows.length, 'more row')} not shown`);
  if (allColumns.length > keys.length)
    notes.push(`${plural(allColumns.length - keys.length, 'more column')} not shown`);
  const text = codeBlock(table, 2500) + (notes.length ? `\n${notes.join('; ')}` : '');
  return section(text);
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v).replace(/\s+/g, ' ');
    } catch {
      return String(v);
    }
  }
  return String(v).replace(/\s+/g, ' ');
}

/**
 * The run stopped on steps whose outcome is unknown: a human chooses, for each, what happens
 * next; the run goes on once every one is decided.
 */
export function haltedMessage(run: RunRecord, stepIds: string[], reason: string): SlackMessage {
  const decide = (
    stepId: string,
    choice: DecideButtonValue['choice'],
    text: string,
    style?: 'primary' | 'danger',
  ) =>
    button({
      text,
      actionId: ACTION.decide,
      value: { runId: run.id, stepId, choice } satisfies DecideButtonValue,
      ...(style ? { style } : {}),
      ...(choice === 'abort'
        ? { confirm: { title: 'Abort the run?', text: `Abort run ${run.id}?`, confirm: 'Abort' } }
        : {}),
    });
  // One action_id per actions block is all Slack allows, so each choice is a section with its button.
  const choice = (text: string, b: ReturnType<typeof button>): SectionBlock =>
    b ? { ...section(text), accessory: b } : section(`${text} (button unavailable: use the terminal)`);
  const first = stepIds[0] ?? '';
  const where = stepIds.map((id) => inline(id)).join(', ');
  const perStep = stepIds.length > 1;
  const body: KnownBlock[] = [
    section(
      `:warning: *Run ${inline(run.id)} halted* at ${where}: ${escapeMrkdwn(truncateText(reason, 1500))}\n` +
        `Check the node${perStep ? 's' : ''}, then choose${perStep ? ' for each step' : ''} (or ${inline(`recover decide ${run.id} ${perStep ? 'STEP' : first} retry|mark-done|abort`)}):`,
    ),
    ...stepIds.flatMap((id) => [
      choice(
        `*Retry*${perStep ? ` ${inline(id)}` : ''}: run the step again (a destructive step needs a fresh approval)`,
        decide(id, 'retry', 'Retry', 'primary'),
      ),
      choice(
        `*Mark done*${perStep ? ` ${inline(id)}` : ''}: you checked that the step did take effect`,
        decide(id, 'mark-done', 'Mark done'),
      ),
    ]),
    choice('*Abort*: end the run here', decide(first, 'abort', 'Abort', 'danger')),
  ];
  return composeMessage(
    escapeMrkdwn(`Run ${run.id} halted at ${stepIds.join(', ')}: choose retry, mark done or abort`),
    body,
    '…',
  );
}

/** The last word in the thread when a run ends. */
export function runFinishedLine(run: RunRecord): SlackMessage {
  const what =
    run.state === 'done'
      ? 'finished: every step done'
      : `${run.state}${run.reason ? `: ${escapeMrkdwn(truncateText(run.reason, 1500))}` : ''}`;
  const text = `${RUN_ICON[run.state]} Run ${inline(run.id)} ${what}`;
  return { text: truncateText(text, 3000), blocks: [section(text)] };
}
