import { approve } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import { setReplicator, type Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { slaveNode, testFleet } from '../helpers/scenarios';
import { systemRows } from '../helpers/coremedia-sql';
import {
  configWithAccess,
  dropPrefix,
  startTestEngine,
  waitForRunState,
  type TestEngine,
} from '../helpers/engine';

const prefix = `t-drift-${process.pid}`;
let fleet: Fleet;
let engine: TestEngine;

beforeAll(async () => {
  fleet = await testFleet(
    'drift',
    [
      { name: 'mls', engine: 'postgres', changelog: { last: 1050, count: 5, idtag: 'tag-master' } },
      slaveNode('rls-1', 'mysql', 1042),
      slaveNode('rls-2', 'postgres', 1042),
      slaveNode('rls-3', 'mysql', 1042),
      slaveNode('rls-4', 'postgres', 1030),
    ],
    'drift',
  );
  engine = await startTestEngine(configWithAccess(fleet, { approvers: ['bob'] }).config, prefix);
  engine.startWorker();
});

afterAll(async () => {
  await engine.close();
  await dropPrefix(prefix);
  await fleet.destroy();
});

it('voids an approval when live state changed between plan and execution, and shows the new plan', async () => {
  const outcome = await startRun(engine.deps, {
    topology: 'drift',
    runbook: 'in-sync-replicator-settings',
    target: null,
    requester: { id: 'alice' },
  });
  if (outcome.kind !== 'started') throw new Error('not started');
  const { run, plan } = outcome;
  await waitForRunState(engine, run.id, ['awaiting-approval']);
  expect(plan.steps.filter((s) => s.templateId === 'update-replicator-remote').map((s) => s.node)).toEqual([
    'rls-1',
    'rls-2',
    'rls-3',
  ]);

  // rls-3 falls behind after the plan was shown: it no longer belongs to the in-sync set.
  await setReplicator(fleet, 'rls-3', { remote: 1030 });
  await approve(engine.deps, { runId: run.id, approver: { id: 'bob' }, planHash: plan.hash });
  await waitForRunState(engine, run.id, ['awaiting-approval']);

  const after = (await engine.deps.ledger.getRun(run.id))!;
  expect(after.planHash).not.toBe(plan.hash);
  const events = await engine.deps.audit.read(run.id);
  expect(events.map((e) => e.kind)).toContain('approval-void');
  expect(engine.notifier.events.some((e) => e.type === 'approval-decided' && e.decision === 'void')).toBe(
    true,
  );
  // Nothing ran on the strength of the void approval.
  expect((await systemRows(fleet, 'rls-1')).replicator_remote).toBe('1042');

  // The old hash no longer counts; the new plan, approved, runs on the new in-sync set only.
  await expect(
    approve(engine.deps, { runId: run.id, approver: { id: 'bob' }, planHash: plan.hash }),
  ).rejects.toThrow(/names plan/);
  const newPlan = (await engine.deps.ledger.getPlan(run.id))!;
  expect(newPlan.steps.filter((s) => s.templateId === 'update-replicator-remote').map((s) => s.node)).toEqual(
    ['rls-1', 'rls-2'],
  );
  await approve(engine.deps, { runId: run.id, approver: { id: 'bob' }, planHash: newPlan.hash });
  expect(await waitForRunState(engine, run.id, ['done', 'failed', 'halted', 'awaiting-approval'])).toBe(
    'done',
  );
  for (const node of ['rls-1', 'rls-2'])
    expect(await systemRows(fleet, node)).toMatchObject({
      replicator_remote: '1050',
      replicator_local: '1050',
      replicator_tag: 'tag-master',
    });
  expect((await systemRows(fleet, 'rls-3')).replicator_remote).toBe('1030');
}, 60_000);
