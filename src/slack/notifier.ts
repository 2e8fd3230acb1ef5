import type { RunLedger } from '../engine/ledger';
import type { EngineEvent, Notifier, RunRecord } from '../engine/types';
import {
  approvalDecidedMessage,
  approvalRequestMessage,
  haltedMessage,
  planMessage,
  runFinishedLine,
  runParentMessage,
  stepResultReply,
} from './blocks';
import { codeBlock } from './blocks/limits';
import type { MessageSink } from './outbox';
import type { RunThreads } from './run-threads';

export interface SlackNotifierDeps {
  outbox: MessageSink;
  threads: RunThreads;
  ledger: RunLedger;
  clock: () => Date;
  onError: (err: Error) => void;
}

/**
 * The engine's voice in Slack: one parent message per run, updated in place, and a thread with
 * one reply per step. notify() returns at once: Slack's pace (about one message a second per
 * channel) must never hold a recovery back. Each run's messages are chained to keep their order.
 */
export class SlackNotifier implements Notifier {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly deps: SlackNotifierDeps) {}

  async notify(event: EngineEvent): Promise<void> {
    const runId = event.run.id;
    const previous = this.chains.get(runId) ?? Promise.resolve();
    const next = previous
      .then(() => this.deliver(event))
      .catch((err: unknown) => this.deps.onError(err instanceof Error ? err : new Error(String(err))));
    this.chains.set(runId, next);
    void next.then(() => {
      if (this.chains.get(runId) === next) this.chains.delete(runId);
    });
  }

  /** Wait until every message queued so far has been handed to Slack. */
  async drain(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
    await this.deps.outbox.drain();
  }

  private async deliver(event: EngineEvent): Promise<void> {
    const thread = await this.deps.threads.get(event.run.id);
    if (!thread) return; // started from a terminal: nothing to say in Slack
    const { outbox, threads } = this.deps;
    const reply = (message: Parameters<MessageSink['post']>[1]) =>
      outbox.post(thread.channel, message, thread.ts ?? undefined);

    switch (event.type) {
      case 'run-started': {
        if (thread.ts) {
          await reply(planMessage(event.plan)); // a new plan after drift: show it in the thread
          return this.updateParent(event.run);
        }
        const { ts } = await outbox.post(thread.channel, runParentMessage(event.run, event.plan, []));
        await threads.setParent(event.run.id, ts);
        return;
      }
      case 'step-started':
        return this.updateParent(event.run);
      case 'step-waiting': {
        // Said once in the thread; later checks show only in the parent's step list.
        if (!event.first) return this.updateParent(event.run);
        const plan = await this.deps.ledger.getPlan(event.run.id);
        const step = plan?.steps.find((s) => s.id === event.stepId);
        if (step) await reply(stepResultReply(step, event.result));
        return this.updateParent(event.run);
      }
      case 'step-result': {
        const plan = await this.deps.ledger.getPlan(event.run.id);
        const step = plan?.steps.find((s) => s.id === event.stepId);
        if (step) await reply(stepResultReply(step, event.result));
        return this.updateParent(event.run);
      }
      case 'awaiting-approval': {
        const plan = await this.deps.ledger.getPlan(event.run.id);
        const steps = plan?.steps.filter((s) => event.stepIds.includes(s.id)) ?? [];
        const { ts } = await reply(approvalRequestMessage(event.run, event.gate, steps, event.planHash));
        await threads.setApprovalMessage(event.run.id, event.gate, ts);
        return this.updateParent(event.run);
      }
      case 'approval-decided': {
        const ts = await threads.approvalMessage(event.run.id, event.gate);
        const plan = await this.deps.ledger.getPlan(event.run.id);
        const steps = plan?.steps.filter((s) => s.gate === event.gate) ?? [];
        const message = approvalDecidedMessage(
          event.run,
          event.gate,
          steps,
          event.decision,
          event.by,
          this.deps.clock().toISOString(),
          event.reason,
        );
        if (ts) await outbox.update(thread.channel, ts, message);
        else await reply(message);
        return this.updateParent(event.run);
      }
      case 'run-halted':
        await reply(haltedMessage(event.run, event.unknownSteps ?? [event.stepId], event.reason));
        return this.updateParent(event.run);
      case 'run-finished':
        await reply(runFinishedLine(event.run));
        if (event.followUp) await reply(followUpMessage(event.followUp));
        return this.updateParent(event.run);
    }
  }

  /** The parent shows the run as the ledger has it now, whatever event prompted the update. */
  private async updateParent(run: RunRecord): Promise<void> {
    const thread = await this.deps.threads.get(run.id);
    if (!thread?.ts) return;
    const [current, plan, steps] = await Promise.all([
      this.deps.ledger.getRun(run.id),
      this.deps.ledger.getPlan(run.id),
      this.deps.ledger.getSteps(run.id),
    ]);
    if (!plan) return;
    await this.deps.outbox.update(thread.channel, thread.ts, runParentMessage(current ?? run, plan, steps));
  }
}

/** What is left for humans after the run (publications to replay), as a plain thread reply. */
function followUpMessage(text: string) {
  const [first, ...rest] = text.split('\n');
  return {
    text: first ?? text,
    blocks: [
      {
        type: 'section' as const,
        text: {
          type: 'mrkdwn' as const,
          text: `:warning: *Still to do by hand*\n${codeBlock([first, ...rest].join('\n'), 2800)}`,
        },
      },
    ],
  };
}
