import { actionLines, describeCheck } from '../../render/plan-text';
import type { Capture, PlanStep, ResolvedAction, Risk } from '../../runbook/types';
import { codeBlock, escapeMrkdwn } from './limits';

/** Pieces shared by the plan, run and approval messages. Every function returns mrkdwn-safe text. */

export const RISK_LABEL: Record<Risk, string> = {
  destructive: ':rotating_light: DESTRUCTIVE',
  write: ':pencil2: write',
  read: ':mag: read',
};

/** `text` as inline code; plain (escaped) when a backtick in it would end the code span. */
export function inline(text: string): string {
  return text.includes('`') || text === '' ? escapeMrkdwn(text) : '`' + escapeMrkdwn(text) + '`';
}

/** A Slack user id becomes a mention; anything else (a terminal user name) stays plain text. */
export function userRef(id: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(id) ? `<@${id}>` : escapeMrkdwn(id);
}

/** "09:45 UTC" from an ISO timestamp; the input itself (escaped) when it is not one. */
export function utcTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? escapeMrkdwn(iso) : `${d.toISOString().slice(11, 16)} UTC`;
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a step executes, as the terminal plan shows it (raw text: put it in a codeBlock). */
export function actionText(action: ResolvedAction): string {
  return actionLines(action).join('\n');
}

export function capturesText(captures: Capture[]): string {
  return captures.map((c) => (c.name === c.column ? c.name : `${c.name} ← ${c.column}`)).join(', ');
}

/** "`id` on `node` (engine) · :mag: read · gate `g`" */
export function stepHeading(step: PlanStep): string {
  const gate = step.gate ? ` · gate ${inline(step.gate)}` : '';
  return `${inline(step.id)} on ${inline(step.node)} (${step.engine}) · ${RISK_LABEL[step.risk]}${gate}`;
}

/** Title, the exact action in a code block, check and captures: what a human approves. */
export function stepDetail(step: PlanStep, maxCode: number): string {
  const lines = [escapeMrkdwn(step.title), codeBlock(actionText(step.action), maxCode)];
  const extra: string[] = [];
  if (step.check) extra.push(`check: ${escapeMrkdwn(describeCheck(step.check))}`);
  if (step.captures.length > 0) extra.push(`captures: ${escapeMrkdwn(capturesText(step.captures))}`);
  if (extra.length > 0) lines.push(extra.join(' · '));
  return lines.join('\n');
}

/** Steps that execute the very same action text (per template, and per stage when asked), in order. */
export function groupSteps(steps: PlanStep[], byStage: boolean): PlanStep[][] {
  const groups = new Map<string, PlanStep[]>();
  for (const s of steps) {
    const key = [byStage ? s.stage : '', s.templateId, s.risk, s.gate, actionText(s.action)].join('\u0000');
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()];
}

/** One group as a block text: the nodes, then the exact action that runs on each of them. */
export function groupText(group: PlanStep[], maxCode: number): string {
  const first = group[0]!;
  if (group.length === 1)
    return `${stepHeading(first)} · stage ${first.stage}\n${stepDetail(first, maxCode)}`;
  const nodes = group.map((s) => s.node);
  const names = nodes.slice(0, 12).map(inline).join(', ');
  const more = nodes.length > 12 ? ` and ${nodes.length - 12} more` : '';
  const gate = first.gate ? ` · gate ${inline(first.gate)}` : '';
  return (
    `${inline(first.templateId)} on ${plural(group.length, 'node')} (${names}${more}) · stage ${first.stage} · ` +
    `${RISK_LABEL[first.risk]}${gate}\n${stepDetail(first, maxCode)}`
  );
}
