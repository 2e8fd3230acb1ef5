/** `recover monitor` as an operator runs it when Slack is the thing that is down: alerts on the terminal. */
import { rmSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';
import {
  insertReplicatorIdRows,
  clearReplicatorIdRows,
  type Fleet,
} from '../../src/flavours/coremedia/fleet/fleet';
import { dropPrefix } from '../helpers/engine';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { startWorkerProcess } from '../helpers/worker-process';

// Each test spawns the real CLI (TypeScript through tsx): on a loaded machine a start alone can
// take seconds. These are deadlines, not speed checks.
jest.setTimeout(180_000);

const prefix = `t-monc-${process.pid}`;
let fleet: Fleet;
let file: string | undefined;

beforeAll(async () => {
  fleet = await testFleet('monc', [masterNode('postgres'), slaveNode('rls-1', 'mysql', 1042)], 'monc');
});

afterAll(async () => {
  await dropPrefix(prefix);
  if (file) rmSync(file, { force: true });
  await fleet?.destroy();
});

it('without a Slack token, alerts and their resolution are printed', async () => {
  const raw = YAML.parse(YAML.stringify(fleet.config)) as { topologies: Record<string, unknown>[] };
  raw.topologies[0]!.monitor = { intervalMs: 300, jitterMs: 0, alertChannel: 'C0TERM' };
  file = fleet.topologyFile.replace(/\.yaml$/, '.monitor.yaml');
  writeFileSync(file, YAML.stringify(raw));
  const proc = await startWorkerProcess(file, { ...fleet.env, RECOVER_REDIS_PREFIX: prefix }, 'monitor');
  try {
    expect(proc.output()).toContain('monitor ready: monc (alerts to this terminal)');
    await insertReplicatorIdRows(fleet, 'rls-1', 1);
    await waitFor(() => proc.output().includes('🚨 [monc] ReplicatorIdTable on rls-1 has 1 row'));
    await clearReplicatorIdRows(fleet, 'rls-1');
    await waitFor(() => proc.output().includes('✅ resolved: [monc] ReplicatorIdTable on rls-1'));
  } finally {
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }
  expect(proc.output()).toContain('monitor stopping');
}, 180_000);

async function waitFor(ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
