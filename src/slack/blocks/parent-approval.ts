import type { RunRecord, StepRecord } from '../../engine/types';
import type { Plan } from '../../runbook/types';
import { ACTION } from '../constants';
import { actions, button, MAX_BLOCKS, section } from './limits';
import { inline, plural } from './parts';
import type { ApprovalButtonValue, SlackMessage } from './types';

/**
 * While a run waits for approval, its parent message carries the gate's Approve and Reject too
 * (the thread's request has the steps and their SQL). An update is not a new message in the
 * channel: the buttons are there at once, even when the channel's posts are at Slack's pace.
 */
export function withParentApproval(
  message: SlackMessage,
  run: RunRecord,
  plan: Plan,
  steps: StepRecord[],
): SlackMessage {
  if (run.state !== 'awaiting-approval' || message.blocks.length > MAX_BLOCKS - 2) return message;
  const waiting = new Set(steps.filter((s) => s.state === 'awaiting-approval').map((s) => s.stepId));
  const gate = plan.steps.find((s) => waiting.has(s.id) && s.gate)?.gate;
  if (!gate) return message;
  const count = plan.steps.filter((s) => s.gate === gate && waiting.has(s.id)).length;
  const value: ApprovalButtonValue = { runId: run.id, gate, planHash: plan.hash };
  const blocks = [
    section(
      `:rotating_light: *Waiting for a second person* to approve gate ${inline(gate)} ` +
        `(${plural(count, 'step')}; their SQL and commands are in the thread)`,
    ),
    actions([
      button({ text: 'Approve', actionId: ACTION.approve, style: 'primary', value }),
      button({
        text: 'Reject',
        actionId: ACTION.reject,
        style: 'danger',
        value,
        confirm: { title: 'Reject?', text: `Rejecting aborts run ${run.id}.`, confirm: 'Reject' },
      }),
    ]),
  ].filter((b) => b !== null);
  return { text: message.text, blocks: [...message.blocks, ...blocks] };
}
