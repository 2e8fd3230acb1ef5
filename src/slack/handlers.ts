import type { EngineDeps } from '../engine/deps';
import { EngineError } from '../engine/deps';
import { abort, approve, decide, reject } from '../engine/decisions';
import { planFor, startRun } from '../engine/start';
import { renderTimelineMarkdown } from '../render/timeline';
import { PlanError } from '../runbook/resolve';
import { UnsupportedFlavourError } from '../status/inspect';
import { topologyOf } from '../engine/deps';
import type { AlertStore } from '../monitor/alert-store';
import { alertMessage, errorMessage, planMessage } from './blocks';
import { userRef } from './blocks/parts';
import { runsMessage } from './blocks/runs';
import { statusWithPlans } from './blocks/target-plans';
import type { SlackJob } from './jobs';
import type { SlackMessage } from './blocks/types';
import type { MessageSink } from './outbox';
import type { RunThreads } from './run-threads';

export interface SlackHandlerDeps {
  engine: EngineDeps;
  outbox: MessageSink;
  threads: RunThreads;
  alerts: AlertStore;
  runbookNames: (flavour: string) => string[];
  /** Failures of sends not waited for (the person who asked is told too, when possible). */
  onError?: (err: Error) => void;
}

type Where = { channel: string; user: string };

/** Refusals and plan errors go back to the one person who asked, as an ephemeral message. */
async function explained(d: SlackHandlerDeps, where: Where, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (err instanceof EngineError || err instanceof PlanError || err instanceof UnsupportedFlavourError) {
      await d.outbox.ephemeral(where.channel, where.user, errorMessage(err.message));
      return;
    }
    await d.outbox.ephemeral(
      where.channel,
      where.user,
      errorMessage('Recover failed to do that', (err as Error).message),
    );
    throw err;
  }
}

/**
 * Hand an answer to the outbox and return: the request's worker slot is not held while the post
 * waits for its channel's turn (about one message a second per channel). A failed post is told to
 * the person who asked.
 */
function answer(d: SlackHandlerDeps, where: Where, message: SlackMessage): void {
  d.outbox.post(where.channel, message, undefined, { urgency: 'answer' }).catch((err: Error) => {
    d.onError?.(err);
    return d.outbox
      .ephemeral(where.channel, where.user, errorMessage('Recover could not post its answer', err.message))
      .catch(() => undefined);
  });
}

export const slackHandlers = {
  status: (d: SlackHandlerDeps, job: SlackJob<'status'>) =>
    explained(d, job, async () => {
      const topology = topologyOf(d.engine, job.topology);
      const report = await d.engine.inspect(topology);
      answer(d, job, statusWithPlans(report, d.runbookNames(topology.flavour)));
    }),

  plan: (d: SlackHandlerDeps, job: SlackJob<'plan'>) =>
    explained(d, job, async () => {
      const plan = await planFor(d.engine, job.topology, job.runbook, job.target);
      answer(d, job, planMessage(plan));
    }),

  start: (d: SlackHandlerDeps, job: SlackJob<'start'>) =>
    explained(d, job, async () => {
      // Bind the channel first: the run's first message is posted while it starts.
      await d.threads.bind(job.runId, job.channel);
      const outcome = await startRun(d.engine, {
        topology: job.topology,
        runbook: job.runbook,
        target: job.target,
        requester: { id: job.user },
        runId: job.runId,
        expectedPlanHash: job.planHash,
      });
      if (outcome.kind === 'plan-changed') {
        await d.outbox.ephemeral(
          job.channel,
          job.user,
          errorMessage(
            'The fleet changed since this plan was shown: nothing was started',
            'Here is the new plan; start that one if it is right.',
          ),
        );
        answer(d, job, planMessage(outcome.plan));
      }
    }),

  approve: (d: SlackHandlerDeps, job: SlackJob<'approve'>) =>
    explained(d, job, async () => {
      const r = await approve(d.engine, {
        runId: job.runId,
        gate: job.gate,
        planHash: job.planHash,
        approver: { id: job.user },
      });
      if (!r.counted)
        await d.outbox.ephemeral(
          job.channel,
          job.user,
          errorMessage(`"${r.gate}" was already approved: your click counted once`),
        );
    }),

  reject: (d: SlackHandlerDeps, job: SlackJob<'reject'>) =>
    explained(d, job, () => reject(d.engine, job.runId, { id: job.user }, job.gate)),

  abort: (d: SlackHandlerDeps, job: SlackJob<'abort'>) =>
    explained(d, job, () => abort(d.engine, job.runId, { id: job.user })),

  decide: (d: SlackHandlerDeps, job: SlackJob<'decide'>) =>
    explained(d, job, () => decide(d.engine, job.runId, job.stepId, job.choice, { id: job.user })),

  runs: (d: SlackHandlerDeps, job: SlackJob<'runs'>) =>
    explained(d, job, async () => {
      const runs = await d.engine.ledger.listRuns(job.topology ?? undefined, 15);
      await d.outbox.ephemeral(job.channel, job.user, runsMessage(runs, job.topology));
    }),

  /** Acknowledge silences an alert's updates (its resolution still comes); the first click wins. */
  acknowledge: (d: SlackHandlerDeps, job: SlackJob<'acknowledge'>) =>
    explained(d, job, async () => {
      const r = await d.alerts.acknowledge(job.topology, job.key, job.user, d.engine.clock());
      if (r.acknowledged && r.alert?.ts) {
        await d.outbox.update(r.alert.channel, r.alert.ts, alertMessage(r.alert));
        return;
      }
      const why = !r.alert
        ? 'That alert is no longer open'
        : r.alert.state !== 'open'
          ? 'That alert has already resolved'
          : `That alert was already acknowledged by ${r.alert.ackedBy ? userRef(r.alert.ackedBy) : 'someone'}`;
      await d.outbox.ephemeral(job.channel, job.user, errorMessage(why));
    }),

  timeline: (d: SlackHandlerDeps, job: SlackJob<'timeline'>) =>
    explained(d, job, async () => {
      const run = await d.engine.ledger.getRun(job.runId);
      if (!run) throw new EngineError('unknown-run', `no run "${job.runId}" (see /recover runs)`);
      const markdown = renderTimelineMarkdown(
        run,
        await d.engine.ledger.getPlan(job.runId),
        await d.engine.audit.read(job.runId),
      );
      // Whole, as a file: a message would cut it at Slack's 3000 characters per section.
      const file = {
        filename: `${run.id}-timeline.md`,
        title: `Incident timeline of ${run.id}`,
        content: markdown,
      };
      const comment = `Incident timeline of \`${run.id}\` (${run.runbook} on ${run.topology}), asked for by <@${job.user}>`;
      d.outbox.upload(job.channel, file, comment).catch((err: Error) => {
        d.onError?.(err);
        return d.outbox
          .ephemeral(job.channel, job.user, errorMessage('Recover could not share the timeline', err.message))
          .catch(() => undefined);
      });
    }),
};
