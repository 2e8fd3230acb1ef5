import type { AckFn, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import { z } from 'zod';
import { newRunId } from '../src/engine/start';
import { errorMessage } from '../src/slack/blocks';
import { ACTION, type ActionId } from '../src/slack/constants';
import type { SlackJob, SlackJobName } from '../src/slack/jobs';
import type { CommandDeps } from './context';
import { enqueueFor } from './enqueue';

interface ButtonArgs {
  ack: AckFn<void>;
  body: BlockAction;
  action: ButtonAction;
  respond: RespondFn;
}

type Clicked = { user: string; channel: string; messageTs: string };

/** A click as Slack or the chat shell delivers it: who, where, which button, what it carried. */
export interface ButtonClick extends Clicked {
  actionId: string;
  value: string;
}
type Respond = (message: Parameters<RespondFn>[0]) => Promise<unknown>;
export type ClickHandler = (click: ButtonClick, respond: Respond) => Promise<void>;

/** A second click of the same button on the same message within this long is the same click. */
const CLICK_REPEAT_MS = 10_000;

/**
 * A button: read the value (data, re-validated — never trusted: the worker checks the engine's
 * rules again), enqueue. The same click delivered twice (or a double click) is one job.
 */
function button<S extends z.ZodType, N extends SlackJobName>(
  deps: CommandDeps,
  job: N,
  value: S,
  toJob: (v: z.infer<S>, clicked: Clicked, deps: CommandDeps) => SlackJob<N>,
): ClickHandler {
  return async function onClick(click, respond) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(click.value);
    } catch {
      parsed = undefined;
    }
    const v = value.safeParse(parsed);
    if (!click.channel || !v.success) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        ...errorMessage('That button carried something Recover cannot read', 'run the command again'),
      });
      return;
    }
    const { actionId, value: raw, ...clicked } = click;
    await enqueueFor({ deps, respond }, job, toJob(v.data, clicked, deps), {
      parts: [click.user, click.messageTs, actionId, raw],
      ttlMs: CLICK_REPEAT_MS,
    });
  };
}

/** The Bolt listener around a click handler: ack at once, then the same path as the shell's clicks. */
function boltListener(onClick: ClickHandler) {
  return async function onButton({ ack, body, action, respond }: ButtonArgs): Promise<void> {
    await ack();
    await onClick(
      {
        user: body.user.id,
        channel: body.channel?.id ?? '',
        messageTs: body.container?.message_ts ?? '',
        actionId: action.action_id,
        value: action.value ?? '',
      },
      (m) => respond(m),
    );
  };
}

const Topology = z.object({ topology: z.string() });
const PlanValue = z.object({ topology: z.string(), runbook: z.string(), target: z.string().nullable() });
const StartValue = PlanValue.extend({ planHash: z.string() });
const ApprovalValue = z.object({ runId: z.string(), gate: z.string(), planHash: z.string() });
const RunValue = z.object({ runId: z.string() });
const AlertValue = z.object({ topology: z.string(), key: z.string() });
const DecideValue = z.object({
  runId: z.string(),
  stepId: z.string(),
  choice: z.enum(['retry', 'mark-done', 'abort']),
});

export function buttonClicks(deps: CommandDeps): Record<ActionId, ClickHandler> {
  const at = (c: Clicked) => ({ channel: c.channel, user: c.user });
  return {
    [ACTION.refreshStatus]: button(deps, 'status', Topology, (v, c) => ({ ...at(c), topology: v.topology })),
    [ACTION.showPlan]: button(deps, 'plan', PlanValue, (v, c) => ({ ...at(c), ...v })),
    [ACTION.startRun]: button(deps, 'start', StartValue, (v, c, d) => ({
      ...at(c),
      ...v,
      runId: newRunId(v.topology, new Date(d.now())),
    })),
    [ACTION.approve]: button(deps, 'approve', ApprovalValue, (v, c) => ({ ...at(c), ...v })),
    [ACTION.reject]: button(deps, 'reject', ApprovalValue, (v, c) => ({
      ...at(c),
      runId: v.runId,
      gate: v.gate,
    })),
    [ACTION.abortRun]: button(deps, 'abort', RunValue, (v, c) => ({ ...at(c), runId: v.runId })),
    [ACTION.decide]: button(deps, 'decide', DecideValue, (v, c) => ({ ...at(c), ...v })),
    // Alert buttons: Inspect posts `status` and Plan the condition's runbook, in the alert channel.
    [ACTION.alertInspect]: button(deps, 'status', Topology, (v, c) => ({ ...at(c), topology: v.topology })),
    [ACTION.alertPlan]: button(deps, 'plan', PlanValue, (v, c) => ({ ...at(c), ...v })),
    [ACTION.alertAck]: button(deps, 'acknowledge', AlertValue, (v, c) => ({ ...at(c), ...v })),
  } as Record<ActionId, ClickHandler>;
}

export function buttonListeners(deps: CommandDeps): Record<ActionId, ReturnType<typeof boltListener>> {
  const clicks = buttonClicks(deps);
  return Object.fromEntries(Object.entries(clicks).map(([id, c]) => [id, boltListener(c)])) as Record<
    ActionId,
    ReturnType<typeof boltListener>
  >;
}
