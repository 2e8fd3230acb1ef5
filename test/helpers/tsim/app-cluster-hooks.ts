import { expectNoLeakedHandles } from '../leak-guard';
import { startTungstenCluster, type TsimCluster } from './cluster';
import { tsimSsh } from './ssh-cli';

export interface TsimFileState {
  cluster: TsimCluster;
  ssh: ReturnType<typeof tsimSsh>;
}

/**
 * The jest hooks of a simulator test file: one three-host cluster for the file with an `app.t`
 * table replicated everywhere, the CLIs over SSH, and everything closed (and checked) at the end.
 */
export function tsimFileHooks(): TsimFileState {
  const state = {} as TsimFileState;
  beforeAll(async () => {
    state.cluster = await startTungstenCluster();
    state.ssh = tsimSsh(state.cluster);
    await state.cluster.write('CREATE DATABASE app');
    await state.cluster.write('CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))');
  });
  afterAll(async () => {
    await state.ssh?.close();
    await state.cluster?.close();
    await expectNoLeakedHandles();
  });
  return state;
}
