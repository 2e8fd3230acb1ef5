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
import { progressText } from '../engine/progress';
import { withParentApproval } from './blocks/parent-approval';
import type { SlackMessage } from './blocks/types';
import type { MessageSink, PostOptions } from './outbox';
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
 * channel) must never hold a recovery back. Each run's events are handed to the outbox in order,
 * without waiting for Slack: progress coalesces there, and approval requests and halts (a person
 * must act) go ahead of the progress still queued.
 */
export class SlackNotifier implements Notifier {
  private readonly chains = new Map<string, Promise<void>>();
  /** Sends not waited for; drain() waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Approval requests on their way: the decision updates that message once it has a ts. */
  private readonly approvalPosts = new Map<string, Promise<string | undefined>>();
  /** Long steps running now, per run: one line each under the parent (bytes, rate, ETA). */
  private readonly progress = new Map<string, Map<string, string>>();
  /** Parent redraws scheduled, per run. */
  private readonly parentTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: SlackNotifierDeps) {}

  async notify(event: EngineEvent): Promise<void> {
    const runId = event.run.id;
    // A person must act on these: they do not wait behind the run's progress still being handed
    // over (once the run's parent exists, they need nothing earlier events set up).
    if (event.type === 'awaiting-approval' || event.type === 'run-halted') {
      const thread = await this.deps.threads.get(runId);
      if (thread?.ts) {
        void this.later(this.deliver(event));
        return;
      }
    }
    const previous = this.chains.get(runId) ?? Promise.resolve();
    const next = previous.then(() => this.deliver(event)).catch((err: unknown) => this.report(err));
    this.chains.set(runId, next);
    void next.then(() => {
      if (this.chains.get(runId) === next) this.chains.delete(runId);
    });
  }

  /** Wait until every message queued so far has been handed to Slack. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.chains.size > 0) await Promise.all([...this.chains.values()]);
      else if (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      else break;
    }
    await this.deps.outbox.drain();
  }

  private report(err: unknown): void {
    this.deps.onError(err instanceof Error ? err : new Error(String(err)));
  }

  /** Hand a send to the outbox and go on; its failure is reported, not thrown. */
  private later<T>(send: Promise<T>): Promise<T | undefined> {
    const tracked = send.catch((err: unknown) => (this.report(err), undefined));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return tracked;
  }

  private async deliver(event: EngineEvent): Promise<void> {
    const thread = await this.deps.threads.get(event.run.id);
    if (!thread) return; // started from a terminal: nothing to say in Slack
    const { outbox, threads } = this.deps;
    const reply = (
      message: Parameters<MessageSink['post']>[1],
      urgency?: PostOptions['urgency'],
      mergeable = false,
    ) => outbox.post(thread.channel, message, thread.ts ?? undefined, { urgency, mergeable });

    switch (event.type) {
      case 'run-started': {
        if (thread.ts) {
          void this.later(reply(planMessage(event.plan))); // a new plan after drift: show it in the thread
          return this.updateParent(event.run);
        }
        // The run's head (with Abort) goes first: everything after is threaded under it.
        const parent = runParentMessage(event.run, event.plan, []);
        const { ts } = await outbox.post(thread.channel, parent, undefined, { urgency: 'answer' });
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
        if (step) void this.later(reply(stepResultReply(step, event.result), undefined, true));
        return this.updateParent(event.run);
      }
      case 'step-progress': {
        const lines = this.progress.get(event.run.id) ?? new Map<string, string>();
        lines.set(
          event.stepId,
          `:hourglass_flowing_sand: \`${event.stepId}\`: ${progressText(event.progress)}`,
        );
        this.progress.set(event.run.id, lines);
        return this.updateParent(event.run);
      }
      case 'step-result': {
        this.progress.get(event.run.id)?.delete(event.stepId);
        const plan = await this.deps.ledger.getPlan(event.run.id);
        const step = plan?.steps.find((s) => s.id === event.stepId);
        if (step) void this.later(reply(stepResultReply(step, event.result), undefined, true));
        return this.updateParent(event.run);
      }
      case 'awaiting-approval': {
        const plan = await this.deps.ledger.getPlan(event.run.id);
        const steps = plan?.steps.filter((s) => event.stepIds.includes(s.id)) ?? [];
        const key = `${event.run.id}/${event.gate}`;
        const message = approvalRequestMessage(event.run, event.gate, steps, event.planHash);
        // Its Approve is on the run's message at once (an update); this request, with every step's
        // SQL, goes after the answers to people, ahead of progress.
        const posted = this.later(
          reply(message, 'request').then(async ({ ts }) => {
            await threads.setApprovalMessage(event.run.id, event.gate, ts);
            return ts;
          }),
        );
        this.approvalPosts.set(key, posted);
        void posted.finally(() => {
          if (this.approvalPosts.get(key) === posted) this.approvalPosts.delete(key);
        });
        return this.updateParent(event.run);
      }
      case 'approval-decided': {
        const key = `${event.run.id}/${event.gate}`;
        const ts =
          (await this.approvalPosts.get(key)) ?? (await threads.approvalMessage(event.run.id, event.gate));
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
        void this.later<unknown>(ts ? outbox.update(thread.channel, ts, message) : reply(message));
        return this.updateParent(event.run);
      }
      case 'run-halted':
        void this.later(
          reply(haltedMessage(event.run, event.unknownSteps ?? [event.stepId], event.reason), 'prompt'),
        );
        return this.updateParent(event.run);
      case 'run-finished':
        this.progress.delete(event.run.id);
        void this.later(reply(runFinishedLine(event.run)));
        if (event.followUp) void this.later(reply(followUpMessage(event.followUp)));
        return this.updateParent(event.run);
    }
  }

  /**
   * The parent shows the run as the ledger has it now, whatever event prompted the update; events
   * that come together (a stage's steps) make one redraw, PARENT_DEBOUNCE_MS after the first.
   */
  private updateParent(run: RunRecord): void {
    if (this.parentTimers.has(run.id)) return;
    const redraw = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.parentTimers.delete(run.id);
        this.redrawParent(run).then(resolve, (err: unknown) => (this.report(err), resolve()));
      }, PARENT_DEBOUNCE_MS);
      this.parentTimers.set(run.id, timer);
    });
    void this.later(redraw);
  }

  private async redrawParent(run: RunRecord): Promise<void> {
    const thread = await this.deps.threads.get(run.id);
    if (!thread?.ts) return;
    const [current, plan, steps] = await Promise.all([
      this.deps.ledger.getRun(run.id),
      this.deps.ledger.getPlan(run.id),
      this.deps.ledger.getSteps(run.id),
    ]);
    if (!plan) return;
    const now = current ?? run;
    const parent = withProgress(runParentMessage(now, plan, steps), this.progress.get(run.id));
    const message = withParentApproval(parent, now, plan, steps);
    // Buttons a person waits for go ahead of progress in the channel's update lane.
    const urgency = message === parent ? undefined : ('prompt' as const);
    void this.later(this.deps.outbox.update(thread.channel, thread.ts, message, { urgency }));
  }
}

/** Events closer together than this make one redraw of the run's parent message. */
const PARENT_DEBOUNCE_MS = 50;

/** The parent with a line per long step running now, within Slack's 50 blocks. */
function withProgress(message: SlackMessage, lines: Map<string, string> | undefined): SlackMessage {
  if (!lines || lines.size === 0 || message.blocks.length >= 50) return message;
  const block = {
    type: 'context' as const,
    elements: [{ type: 'mrkdwn' as const, text: [...lines.values()].join('\n') }],
  };
  return { text: message.text, blocks: [...message.blocks, block] };
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
