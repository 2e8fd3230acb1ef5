import type { EngineRuntime } from '../../src/app/engine-runtime';
import { dropPrefix } from './engine';
import { expectNoLeakedHandles } from './leak-guard';
import type { PgCluster } from './pg-cluster';
import { startSshd, type TestSshd } from './sshd';

export interface PgRunState {
  sshd: TestSshd;
  cluster?: PgCluster;
  rt?: EngineRuntime;
}

/**
 * The jest hooks of a test file that drives postgres-streaming runbooks: one sshd for the file;
 * after each test its engine closed, its cluster stopped and its Redis keys dropped; no leaks.
 */
export function pgRunHooks(prefix: string): PgRunState {
  const state = {} as PgRunState;
  beforeAll(async () => {
    state.sshd = await startSshd();
  });
  afterEach(async () => {
    await state.rt?.close();
    state.rt = undefined;
    await state.cluster?.stop();
    state.cluster = undefined;
    await dropPrefix(prefix);
  });
  afterAll(async () => {
    await state.sshd.stop();
    await expectNoLeakedHandles(1000);
  });
  return state;
}
