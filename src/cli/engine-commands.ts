import type { Command } from 'commander';
import { abort, approve, decide, reject, type Decision } from '../engine/decisions';
import { planFor, startRun } from '../engine/start';
import { silentNotifier, TerminalNotifier } from '../engine/terminal-notifier';
import { renderPlanText } from '../render/plan-text';
import { renderTimelineMarkdown } from '../render/timeline';
import { DbRegistry } from '../db/connect';
import { HostExecutors } from '../hosts/executors';
import { inspectTopology } from '../status/inspect';
import { getRunbook } from '../runbook/registry';
import type { CliContext } from './context';
import { EXIT_OK, UsageError } from './exit-codes';
import { redisPrefix, secretFromEnv, secretsOf, workerTimings } from '../config/env';
import { configFrom, followRun, optionalConfigFrom, withRuntime, type ConfigOption } from './runtime';
import { alignedTable } from '../render/table';

type AsOption = ConfigOption & { as: string };
const configOpt = [
  '-c, --config <file>',
  'topology file (default: $RECOVER_CONFIG or ./recover.yaml)',
] as const;
const asOpt = ['--as <user>', 'who you are (the same rules as in Slack apply)'] as const;

export function registerEngineCommands(program: Command, ctx: CliContext): void {
  program
    .command('plan')
    .description('show the concrete plan a runbook would execute now (nothing runs)')
    .argument('<topology>')
    .argument('<runbook>')
    .option('--target <node>', 'the node the runbook acts on, when it needs one')
    .option('--json', 'print the plan as JSON')
    .option(...configOpt)
    .action(async function planAction(
      topology: string,
      runbook: string,
      opts: ConfigOption & { target?: string; json?: boolean },
    ) {
      const config = configFrom(opts, ctx);
      const dbs = new DbRegistry({ env: ctx.env });
      // Flavours that probe over SSH (Tungsten, MultiSite) need the hosts to plan.
      const hosts = new HostExecutors({ secrets: config.topologies.flatMap((t) => secretsOf(t, ctx.env)) });
      try {
        const plan = await planFor(
          {
            config,
            runbook: getRunbook,
            inspect: (t) =>
              inspectTopology(t, { dbs, hosts, secret: (name) => secretFromEnv(name, ctx.env) }),
          },
          topology,
          runbook,
          opts.target ?? null,
        );
        ctx.stdout.write(opts.json ? JSON.stringify(plan, null, 2) + '\n' : renderPlanText(plan));
      } finally {
        await ctx.closeWithin(Promise.all([dbs.closeAll(), hosts.closeAll()]), 1000);
      }
    });

  program
    .command('run')
    .description('start a run of a runbook (workers execute it; destructive steps wait for a second person)')
    .argument('<topology>')
    .argument('<runbook>')
    .option('--target <node>', 'the node the runbook acts on, when it needs one')
    .requiredOption(...asOpt)
    .option('--dry-run', 'show the plan and stop: nothing is executed, nothing is locked')
    .option('--no-follow', 'return at once instead of following the run')
    .option(...configOpt)
    .action(async function runAction(
      topology: string,
      runbook: string,
      opts: AsOption & { target?: string; dryRun?: boolean; follow: boolean },
    ) {
      const config = configFrom(opts, ctx);
      await withRuntime(ctx, config, silentNotifier, async (rt) => {
        const outcome = await startRun(rt.deps, {
          topology,
          runbook,
          target: opts.target ?? null,
          requester: { id: opts.as },
          dryRun: opts.dryRun,
        });
        if (outcome.kind !== 'started') {
          ctx.stdout.write(renderPlanText(outcome.plan));
          ctx.stdout.write('\n(dry run: nothing was executed)\n'); // the terminal never passes a plan hash
          return;
        }
        ctx.stdout.write(renderPlanText(outcome.plan, 'running now'));
        ctx.stdout.write(`\nrun ${outcome.run.id} started\n`);
        if (opts.follow) await followRun(rt, ctx, outcome.run.id);
      });
    });

  program
    .command('approve')
    .description('approve the destructive steps a run is waiting on (not as the person who started it)')
    .argument('<run>')
    .argument('[gate]', 'the gate or one of its steps; default: the one waiting')
    .requiredOption(...asOpt)
    .option('--plan <hash>', 'the plan hash you reviewed (default: the current plan)')
    .option('--no-follow', 'return at once')
    .option(...configOpt)
    .action(async function approveAction(
      runId: string,
      gate: string | undefined,
      opts: AsOption & { plan?: string; follow: boolean },
    ) {
      await withRuntime(ctx, configFrom(opts, ctx), silentNotifier, async (rt) => {
        const seen = (await rt.deps.audit.read(runId)).length;
        const r = await approve(rt.deps, { runId, gate, approver: { id: opts.as }, planHash: opts.plan });
        ctx.stdout.write(
          r.counted
            ? `approved "${r.gate}" of ${runId}\n`
            : `"${r.gate}" of ${runId} was already approved: counted once\n`,
        );
        if (r.counted && opts.follow) await followRun(rt, ctx, runId, seen + 1);
      });
    });

  program
    .command('reject')
    .description('reject the waiting destructive steps: the run is aborted')
    .argument('<run>')
    .argument('[gate]')
    .requiredOption(...asOpt)
    .option(...configOpt)
    .action(async function rejectAction(runId: string, gate: string | undefined, opts: AsOption) {
      await withRuntime(ctx, configFrom(opts, ctx), silentNotifier, async (rt) => {
        await reject(rt.deps, runId, { id: opts.as }, gate);
        ctx.stdout.write(`rejected: run ${runId} aborted\n`);
      });
    });

  program
    .command('abort')
    .description('abort a run; a step already running finishes and is recorded')
    .argument('<run>')
    .requiredOption(...asOpt)
    .option(...configOpt)
    .action(async function abortAction(runId: string, opts: AsOption) {
      await withRuntime(ctx, configFrom(opts, ctx), silentNotifier, async (rt) => {
        await abort(rt.deps, runId, { id: opts.as });
        ctx.stdout.write(`run ${runId} aborted\n`);
      });
    });

  program
    .command('decide')
    .description(
      'after a worker died mid-step: retry the step (approval again), mark it done, or abort; once for each unknown step',
    )
    .argument('<run>')
    .argument('<step>')
    .argument('<choice>', 'retry | mark-done | abort')
    .requiredOption(...asOpt)
    .option(...configOpt)
    .action(async function decideAction(runId: string, stepId: string, choice: string, opts: AsOption) {
      if (!['retry', 'mark-done', 'abort'].includes(choice))
        throw new UsageError(`choice must be retry, mark-done or abort, not "${choice}"`);
      await withRuntime(ctx, configFrom(opts, ctx), silentNotifier, async (rt) => {
        await decide(rt.deps, runId, stepId, choice as Decision, { id: opts.as });
        ctx.stdout.write(`${choice} recorded for ${stepId}\n`);
      });
    });

  program
    .command('runs')
    .description('recent runs, newest first, and who holds each topology')
    .argument('[topology]')
    .option(...configOpt)
    .action(async function runsAction(topology: string | undefined, opts: ConfigOption) {
      const config = optionalConfigFrom(opts, ctx);
      await withRuntime(ctx, config, silentNotifier, async (rt) => {
        const runs = await rt.deps.ledger.listRuns(topology);
        ctx.stdout.write(
          alignedTable(
            ['RUN', 'TOPOLOGY', 'RUNBOOK', 'TARGET', 'BY', 'STATE', 'STARTED', 'REASON'],
            runs.map((r) => [
              r.id,
              r.topology,
              r.runbook,
              r.target ?? '—',
              r.requester,
              r.state,
              r.createdAt,
              r.reason ?? '',
            ]),
          ) + '\n',
        );
        // The topologies the file names, and those of the runs listed (no file needed).
        const names = new Set([...config.topologies.map((t) => t.name), ...runs.map((r) => r.topology)]);
        for (const name of [...names].filter((x) => !topology || x === topology)) {
          const lease = await rt.deps.lease.current(name);
          if (lease)
            ctx.stdout.write(
              `${name} is held by ${lease.runId} (${lease.requester}) since ${lease.since}, last heartbeat ${lease.heartbeatAt}\n`,
            );
        }
      });
    });

  program
    .command('timeline')
    .description('the run as a Markdown incident timeline (every command, result and click)')
    .argument('<run>')
    .option(...configOpt)
    .action(async function timelineAction(runId: string, opts: ConfigOption) {
      await withRuntime(ctx, optionalConfigFrom(opts, ctx), silentNotifier, async (rt) => {
        const run = await rt.deps.ledger.getRun(runId);
        if (!run) throw new UsageError(`no run "${runId}"`);
        ctx.stdout.write(
          renderTimelineMarkdown(run, await rt.deps.ledger.getPlan(runId), await rt.deps.audit.read(runId)),
        );
      });
    });

  program
    .command('worker')
    .description('execute runs: start one or more workers next to the bot (Ctrl-C stops cleanly)')
    .option('--concurrency <n>', 'jobs at once', '4')
    .option(...configOpt)
    .action(async function workerAction(opts: ConfigOption & { concurrency: string }) {
      const config = configFrom(opts, ctx);
      await withRuntime(ctx, config, new TerminalNotifier(ctx.stdout), async (rt) => {
        const worker = rt.startWorker({
          concurrency: Number(opts.concurrency) || 4,
          ...workerTimings(ctx.env),
          onError: (err) => ctx.stderr.write(`worker error: ${err.message}\n`),
        });
        await worker.waitUntilReady();
        ctx.stdout.write(`worker ready (Redis prefix ${redisPrefix(ctx.env)})\n`);
        await ctx.untilSignal();
        ctx.stdout.write('worker stopping…\n');
      });
      ctx.exitCode = EXIT_OK;
    });
}
