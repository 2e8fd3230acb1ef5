import type { AuditEvent, RunRecord, StepRecord, StepState } from '../engine/types';
import { TERMINAL_RUN_STATES } from '../engine/types';
import type { Plan } from '../runbook/types';

const STEP_STATES: readonly string[] = [
  'pending',
  'awaiting-approval',
  'running',
  'done',
  'failed',
  'skipped',
  'unknown',
];

/**
 * The incident timeline of one run, as GitHub-flavoured Markdown to paste into an incident doc:
 * a header, one table row per audit event, then every plan step with its final state.
 * `steps` (the ledger's records) are the truth when given; otherwise states come from the events.
 */
export function renderTimelineMarkdown(
  run: RunRecord,
  plan: Plan | null,
  events: AuditEvent[],
  steps?: StepRecord[],
): string {
  const out = [`# Incident timeline: run ${run.id}`, ''];
  out.push(`- **Topology:** ${run.topology}`);
  out.push(`- **Runbook:** ${run.runbook}${run.dryRun ? ' (dry run)' : ''}`);
  out.push(`- **Target:** ${run.target ?? '—'}`);
  out.push(`- **Requested by:** ${run.requester}`);
  out.push(`- **Final state:** ${run.state}${run.reason ? ` (${oneLine(run.reason)})` : ''}`);
  out.push(`- **Plan:** ${run.planHash.slice(0, 12)}`);
  out.push(`- **Started:** ${utc(run.createdAt)} UTC; last change ${utc(run.updatedAt)} UTC`);
  out.push('', '## Timeline', '');

  if (events.length === 0) out.push('_No events recorded._');
  else {
    out.push('| time (UTC) | who | what |', '| --- | --- | --- |');
    for (const e of events) out.push(`| ${utc(e.at)} | ${cell(e.actor ?? 'recover')} | ${what(e)} |`);
  }

  out.push('', '## Steps', '');
  if (!plan) out.push('_The plan was not recorded._');
  else {
    const states = steps ? new Map(steps.map((s) => [s.stepId, s.state])) : statesFromEvents(events);
    const ended = TERMINAL_RUN_STATES.includes(run.state) || run.state === 'halted';
    out.push('| # | step | node | risk | final state |', '| --- | --- | --- | --- | --- |');
    plan.steps.forEach((p, i) => {
      const state = label(states.get(p.id) ?? 'pending', ended);
      out.push(`| ${i + 1} | ${code(p.id)} ${cell(p.title)} | ${cell(p.node)} | ${p.risk} | ${state} |`);
    });
  }
  return out.join('\n') + '\n';
}

/** The summary, the step it concerns (when the summary does not say), and its SQL in backticks. */
function what(e: AuditEvent): string {
  let text = cell(e.summary);
  if (e.stepId && !e.summary.includes(e.stepId)) text = `${code(e.stepId)} ${text}`;
  const sql = sqlOf(e.detail);
  if (sql) text += ` — ${code(sql)}`;
  return text;
}

function sqlOf(detail: Record<string, unknown>): string | null {
  if (typeof detail.sql === 'string') return detail.sql;
  const action = detail.action as { sql?: unknown } | null | undefined;
  return action && typeof action.sql === 'string' ? action.sql : null;
}

/**
 * Without ledger records: step-start → running, step-result → done/failed (detail.ok),
 * awaiting-approval → its steps (detail.steps / detail.stepIds), a decision → detail.choice,
 * and any event's detail.state when it names a step state.
 */
function statesFromEvents(events: AuditEvent[]): Map<string, StepState> {
  const states = new Map<string, StepState>();
  for (const e of events) {
    const d = e.detail;
    if (e.kind === 'awaiting-approval') {
      const ids = Array.isArray(d.steps) ? d.steps : Array.isArray(d.stepIds) ? d.stepIds : [e.stepId];
      for (const id of ids) if (typeof id === 'string') states.set(id, 'awaiting-approval');
      continue;
    }
    if (!e.stepId) continue;
    if (typeof d.state === 'string' && STEP_STATES.includes(d.state))
      states.set(e.stepId, d.state as StepState);
    else if (e.kind === 'step-start') states.set(e.stepId, 'running');
    else if (e.kind === 'step-result' && typeof d.ok === 'boolean')
      states.set(e.stepId, d.ok ? 'done' : 'failed');
    else if (e.kind === 'decision' && d.choice === 'mark-done') states.set(e.stepId, 'done');
    else if (e.kind === 'decision' && d.choice === 'retry') states.set(e.stepId, 'pending');
  }
  return states;
}

function label(state: StepState, runEnded: boolean): string {
  switch (state) {
    case 'pending':
      return 'not run';
    case 'failed':
      return '**FAILED**';
    case 'unknown':
      return '**unknown** (outcome not recorded)';
    case 'running':
      return runEnded ? '**unknown** (started, no result recorded)' : 'running';
    case 'awaiting-approval':
      return 'awaiting approval';
    default:
      return state;
  }
}

/** `2024-05-01 10:00:03`; anything unparsable is shown as it is. */
function utc(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? cell(iso) : d.toISOString().slice(0, 19).replace('T', ' ');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Table cells are one line, and a bare `|` would end the cell (also inside code spans). */
function cell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}

/** A code span that survives backticks inside (MySQL quotes identifiers with them). */
function code(text: string): string {
  const body = cell(text);
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}
