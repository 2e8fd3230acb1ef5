import type { EngineRuntime } from '../../src/app/engine-runtime';
import { startRun } from '../../src/engine/start';
import { dropPrefix } from './engine';
import { expectNoLeakedHandles } from './leak-guard';
import { pgEngine } from './pg-runs';
import type { TsimCluster } from './tsim/cluster';
import { tungstenTopology } from './tungsten-topology';

export interface TungstenRunState {
  cluster?: TsimCluster;
  rt?: EngineRuntime;
}

/** The jest hooks of a file that drives tungsten runbooks: engine, simulator and Redis keys cleaned after each test. */
export function tungstenRunHooks(prefix: string): TungstenRunState {
  const state: TungstenRunState = {};
  afterEach(async () => {
    await state.rt?.close();
    state.rt = undefined;
    await state.cluster?.close();
    state.cluster = undefined;
    await dropPrefix(prefix);
  });
  afterAll(async () => {
    await expectNoLeakedHandles(1000);
  });
  return state;
}

/** Starts tungsten-external-restore of host2 from `backup`, asked by alice; the engine is closed by the hooks. */
export async function startHost2Restore(
  state: TungstenRunState,
  prefix: string,
  cluster: TsimCluster,
  backup: { file: string },
  from: 'primary' | 'replica',
): Promise<{ engine: EngineRuntime; runId: string }> {
  const topology = tungstenTopology(cluster, {
    backups: { host2: { kind: 'dump', path: backup.file, from } },
  });
  const engine = (state.rt = await pgEngine(topology, prefix));
  const outcome = await startRun(engine.deps, {
    topology: topology.name,
    runbook: 'tungsten-external-restore',
    target: 'host2',
    requester: { id: 'alice' },
  });
  if (outcome.kind !== 'started') throw new Error(`the run did not start: ${outcome.kind}`);
  return { engine, runId: outcome.run.id };
}
