import { DEFAULT_LIVENESS, type EngineDeps } from './deps';
import { TERMINAL_RUN_STATES } from './types';

/**
 * Finds runs nothing is moving any more and moves them: a run `running` with no live worker
 * and no job (its job stalled twice, or failed, or the process that approved it died before
 * enqueueing) gets a fresh advance job, which halts it for a human if a step was left running;
 * an ended run still holding its topology, or a lease whose run does not exist, lets go.
 * Returns one line per thing done.
 */
export async function reconcileRuns(deps: EngineDeps): Promise<string[]> {
  const done: string[] = [];
  const staleAfterMs = (deps.liveness ?? DEFAULT_LIVENESS).staleAfterMs;
  for (const topology of deps.config.topologies) {
    const lease = await deps.lease.current(topology.name);
    if (!lease || deps.lease.isLive(lease)) continue;
    const run = await deps.ledger.getRun(lease.runId);
    if (!run) {
      // Starting is atomic now; a lease left by an older version's crash is freed after a grace.
      if (deps.clock().getTime() - Date.parse(lease.since) < staleAfterMs) continue;
      if (await deps.lease.release(topology.name, lease.runId, lease.token))
        done.push(`${topology.name}: released a lease held by ${lease.runId}, which does not exist`);
      continue;
    }
    if (TERMINAL_RUN_STATES.includes(run.state)) {
      if (await deps.lease.release(topology.name, run.id, lease.token))
        done.push(`${topology.name}: released by ${run.id}, which has ended (${run.state})`);
      continue;
    }
    if (run.state !== 'running' || (await deps.queue.hasLiveJob(run.id))) continue;
    await deps.queue.advance(run.id, 0, 'watchdog');
    done.push(`${run.id}: running with no worker and no job; moved on`);
  }
  return done;
}

/** Runs reconcileRuns now and every intervalMs until stopped; errors go to onError. */
export function startWatchdog(
  deps: EngineDeps,
  intervalMs: number,
  onError: (err: Error) => void,
  onAction: (line: string) => void = () => undefined,
): { stop(): void } {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      for (const line of await reconcileRuns(deps)) onAction(line);
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  return { stop: () => clearInterval(timer) };
}
