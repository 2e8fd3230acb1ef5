import { existsSync } from 'node:fs';
import { createEngineRuntime, type EngineRuntime } from '../app/engine-runtime';
import { redisPrefix, serviceUrls } from '../config/env';
import { loadConfig } from '../config/load';
import type { RecoverConfig } from '../config/topology';
import type { Notifier } from '../engine/types';
import { renderAuditLine } from '../render/event-text';
import type { CliContext } from './context';

export interface ConfigOption {
  config?: string;
}

export function configFrom(opts: ConfigOption, ctx: CliContext): RecoverConfig {
  return loadConfig(opts.config ?? ctx.defaultConfigFile);
}

/**
 * For commands that read only Redis (runs, timeline): the topology file when there is one, else
 * nothing. A file named with --config must still be there and valid.
 */
export function optionalConfigFrom(opts: ConfigOption, ctx: CliContext): RecoverConfig {
  if (opts.config === undefined && !existsSync(ctx.defaultConfigFile)) return NO_TOPOLOGIES;
  return configFrom(opts, ctx);
}

/** What the engine is opened with when no topology file is needed: it reads runs, nothing else. */
const NO_TOPOLOGIES = { topologies: [], groups: {} } as unknown as RecoverConfig;

/** Open the engine for one command and always close it, whatever happens. */
export async function withRuntime<T>(
  ctx: CliContext,
  config: RecoverConfig,
  notifier: Notifier,
  fn: (rt: EngineRuntime) => Promise<T>,
): Promise<T> {
  const rt = await createEngineRuntime({
    config,
    redisUrl: serviceUrls(ctx.env).redisUrl,
    prefix: redisPrefix(ctx.env),
    notifier,
    env: ctx.env,
    onError: (err) => ctx.stderr.write(`redis: ${err.message}\n`),
  });
  for (const w of rt.warnings) ctx.stderr.write(`warning: ${w}\n`);
  try {
    return await fn(rt);
  } finally {
    await ctx.closeWithin(rt.close(), 2000);
  }
}

/**
 * Print a run's audit events as they happen until it stops needing nobody: waiting for an
 * approval or a decision, or ended. The worker does the work; this only watches.
 */
export async function followRun(
  rt: EngineRuntime,
  ctx: CliContext,
  runId: string,
  fromIndex = 0,
): Promise<string> {
  let seen = fromIndex;
  let lastProgress = Date.now();
  let hinted = false;
  const printNew = async () => {
    const events = await rt.deps.audit.read(runId);
    for (const e of events.slice(seen)) ctx.stdout.write(renderAuditLine(e) + '\n');
    const progressed = events.length > seen;
    seen = events.length;
    return progressed;
  };
  for (;;) {
    const progressed = await printNew();
    const run = await rt.deps.ledger.getRun(runId);
    const steps = await rt.deps.ledger.getSteps(runId);
    const running = steps.some((x) => x.state === 'running');
    // A wait-until or checklist between its checks is pending with waitingSince: a worker has it too.
    const busy = running || steps.some((x) => x.state === 'pending' && x.waitingSince);
    if (run && run.state !== 'running' && !running) {
      await printNew(); // the event that came with the state change
      return run.state;
    }
    if (progressed) lastProgress = Date.now();
    // A step running or waiting means a worker has it; a run that just moved needs no hint.
    if (!hinted && !busy && Date.now() - lastProgress > 5000) {
      ctx.stderr.write('(no progress yet: is a worker running? start one with `recover worker`)\n');
      hinted = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
