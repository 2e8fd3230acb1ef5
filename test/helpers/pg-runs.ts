import { createEngineRuntime, type EngineRuntime } from '../../src/app/engine-runtime';
import { serviceUrls } from '../../src/config/env';
import { RecoverConfig, type Topology } from '../../src/config/topology';
import { approve } from '../../src/engine/decisions';
import type { RunRecord, RunState } from '../../src/engine/types';
import { RecordingNotifier } from './engine';
import { until } from './until';

export { until };

/**
 * Driving a flavour's runbooks through the real engine in tests (postgres-streaming, multisite):
 * one topology, bob the approver (never the requester), runs polled in the ledger. `env`: the
 * bot's environment (password variables a topology names); the process's own by default.
 */
export async function pgEngine(
  topology: Topology,
  prefix: string,
  env?: NodeJS.ProcessEnv,
): Promise<EngineRuntime> {
  const config = RecoverConfig.parse({
    topologies: [{ ...topology, access: { approvers: ['bob'] }, monitor: { enabled: false } }],
  });
  const rt = await createEngineRuntime({
    config,
    redisUrl: serviceUrls().redisUrl,
    prefix,
    notifier: new RecordingNotifier(),
    ...(env ? { env } : {}),
  });
  rt.startWorker();
  return rt;
}

/** Until the run waits for a human or ends. */
export function settled(engine: EngineRuntime, runId: string, ms = 120_000): Promise<RunRecord> {
  return until(
    'the run to wait or end',
    async () => {
      const r = await engine.deps.ledger.getRun(runId);
      return r && r.state !== 'running' ? r : undefined;
    },
    ms,
  );
}

/** Bob approves the gate the run waits at; resolves once the engine took it. */
export async function approveNext(engine: EngineRuntime, runId: string): Promise<string> {
  const { gate } = await approve(engine.deps, { runId, approver: { id: 'bob' } });
  await until(
    'the approval to be taken',
    async () => (await engine.deps.ledger.getRun(runId))?.state !== 'awaiting-approval',
  );
  return gate;
}

/** Approve each gate as it comes until the run ends; returns the final state, the gates and the reason. */
export async function driveToEnd(
  engine: EngineRuntime,
  runId: string,
): Promise<{ state: RunState; gates: string[]; reason: string | null }> {
  const gates: string[] = [];
  for (;;) {
    const run = await settled(engine, runId);
    if (run.state !== 'awaiting-approval') return { state: run.state, gates, reason: run.reason };
    gates.push(await approveNext(engine, runId));
  }
}

/** The ledger record of a step template (first node it ran on). */
export async function stepResult(engine: EngineRuntime, runId: string, templateId: string) {
  const steps = await engine.deps.ledger.getSteps(runId);
  return steps.find((s) => s.stepId.startsWith(`${templateId}--`));
}
