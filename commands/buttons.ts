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

/**
 * A button: ack at once, read the value (data, re-validated — never trusted: the worker checks the
 * engine's rules again), enqueue. The same click delivered twice (or a double click) is one job.
 */
function button<S extends z.ZodType, N extends SlackJobName>(
  deps: CommandDeps,
  job: N,
  value: S,
  toJob: (v: z.infer<S>, clicked: Clicked, deps: CommandDeps) => SlackJob<N>,
) {
  return async function onButton({ ack, body, action, respond }: ButtonArgs): Promise<void> {
    await ack();
    const ctx = { deps, respond: (m: Parameters<RespondFn>[0]) => respond(m) };
    const channel = body.channel?.id;
    let parsed: unknown;
    try {
      parsed = JSON.parse(action.value ?? '');
    } catch {
      parsed = undefined;
    }
    const v = value.safeParse(parsed);
    if (!channel || !v.success) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        ...errorMessage('That button carried something Recover cannot read', 'run the command again'),
      });
      return;
    }
    const clicked = { user: body.user.id, channel, messageTs: body.container?.message_ts ?? '' };
    await enqueueFor(ctx, job, toJob(v.data, clicked, deps), [
      body.user.id,
      clicked.messageTs,
      action.action_id,
      action.value ?? '',
    ]);
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

export function buttonListeners(deps: CommandDeps): Record<ActionId, ReturnType<typeof button>> {
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
  } as Record<ActionId, ReturnType<typeof button>>;
}
