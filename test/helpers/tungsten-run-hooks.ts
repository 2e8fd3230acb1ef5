import type { EngineRuntime } from '../../src/app/engine-runtime';
import { dropPrefix } from './engine';
import { expectNoLeakedHandles } from './leak-guard';
import type { TsimCluster } from './tsim/cluster';

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
