import type { KnownBlock } from '@slack/types';
import type { RunRecord } from '../../engine/types';
import type { PlanStep } from '../../runbook/types';
import { ACTION } from '../constants';
import {
  actions,
  button,
  composeMessage,
  context,
  escapeMrkdwn,
  fitItems,
  MAX_BLOCKS,
  MESSAGE_TEXT_BUDGET,
  section,
  textLength,
} from './limits';
import { groupSteps, groupText, inline, plural, stepDetail, stepHeading, userRef, utcTime } from './parts';
import type { ApprovalButtonValue, SlackMessage } from './types';

export type ApprovalDecision = 'approved' | 'rejected' | 'void';

/** Posted in the run's thread when a gate is reached: every step's exact action, Approve and Reject. */
export function approvalRequestMessage(
  run: RunRecord,
  gate: string,
  steps: PlanStep[],
  planHash: string,
): SlackMessage {
  const value: ApprovalButtonValue = { runId: run.id, gate, planHash };
  const tail = [
    context(
      `${userRef(run.requester)} started this run and cannot approve it: a second person must. ` +
        `Approving covers every step above, for plan ${inline(planHash.slice(0, 12))} only.`,
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
  ];
  const head = headBlocks(run, gate, steps, `:rotating_light: *Approval needed*`);
  return compose(run, gate, steps, head, tail, `Approval needed for "${gate}" of run ${run.id}`);
}

/** The request message after the decision: the same steps, the buttons replaced by who decided and when. */
export function approvalDecidedMessage(
  run: RunRecord,
  gate: string,
  steps: PlanStep[],
  decision: ApprovalDecision,
  by: string,
  at: string,
  reason?: string,
): SlackMessage {
  const verdict = {
    approved: ':white_check_mark: Approved',
    rejected: ':no_entry: Rejected',
    void: ':recycle: Voided',
  }[decision];
  const why = reason ? `: ${escapeMrkdwn(reason)}` : '';
  const line = `${verdict} by ${userRef(by)} at ${utcTime(at)}${why}`;
  const after =
    decision === 'void' ? '\nThe fleet changed since the plan was made: a new approval request follows.' : '';
  const title = { approved: '*Approved*', rejected: '*Rejected*', void: '*Approval void*' }[decision];
  const head = headBlocks(run, gate, steps, title);
  return compose(
    run,
    gate,
    steps,
    head,
    [section(line + after)],
    `"${gate}" of run ${run.id}: ${decision} by ${by}`,
  );
}

function headBlocks(run: RunRecord, gate: string, steps: PlanStep[], title: string): KnownBlock[] {
  const target = run.target ? ` (target ${inline(run.target)})` : '';
  return [
    section(
      `${title}: gate ${inline(gate)} of run ${inline(run.id)} — ${plural(steps.length, 'step')}\n` +
        `${inline(run.runbook)} on ${inline(run.topology)}${target} · requested by ${userRef(run.requester)}`,
    ),
  ];
}

/**
 * Every step with its exact action when they fit; else steps that run the very same action are
 * shown once with their nodes; else cut with a note (the terminal plan has them all).
 */
function compose(
  run: RunRecord,
  gate: string,
  steps: PlanStep[],
  head: KnownBlock[],
  given: (KnownBlock | null)[],
  fallback: string,
): SlackMessage {
  const tail = given.filter((b): b is KnownBlock => b !== null);
  const fixed = [...head, ...tail];
  const room = {
    blocks: MAX_BLOCKS - fixed.length - 1,
    chars: MESSAGE_TEXT_BUDGET - textLength(fixed) - 300,
  };
  const each = fitItems(
    steps.map((s) => ({ block: section(`${stepHeading(s)}\n${stepDetail(s, 1500)}`), weight: 1 })),
    room,
  );
  let body = each.blocks;
  if (each.omitted > 0) {
    const grouped = fitItems(
      groupSteps(steps, false).map((g) => ({ block: section(groupText(g, 1000)), weight: g.length })),
      room,
    );
    body = grouped.blocks;
    if (grouped.omitted > 0) {
      const cmd = `recover plan ${run.topology} ${run.runbook}${run.target ? ` --target ${run.target}` : ''}`;
      body.push(
        context(
          `… ${plural(grouped.omitted, 'more step')} of gate ${inline(gate)} not shown — run ${inline(cmd)} in a terminal for all`,
        ),
      );
    }
  }
  return composeMessage(escapeMrkdwn(fallback), [...head, ...body], 'Some steps not shown', tail);
}
