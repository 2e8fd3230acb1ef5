import { EngineError } from '../../src/engine/deps';
import { abort, approve, reject } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { renderTimelineMarkdown } from '../../src/render/timeline';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { makeFreshlyRestored, onNode, systemRows } from '../helpers/coremedia-sql';
import {
  configWithAccess,
  dropPrefix,
  startTestEngine,
  waitForRunState,
  type TestEngine,
} from '../helpers/engine';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

const prefix = `t-engine-${process.pid}`;
let fleet: Fleet;
let engine: TestEngine;
let now = new Date();
const clock = () => now;

const alice = { id: 'alice' };
const bob = { id: 'bob' };

beforeAll(async () => {
  fleet = await testFleet(
    'eng',
    [
      masterNode('postgres'),
      slaveNode('rls-1', 'postgres', 1042),
      slaveNode('rls-2', 'mysql', 1042),
      slaveNode('rls-3', 'postgres', 1030),
    ],
    'eng',
  );
  const { config } = configWithAccess(
    fleet,
    { approvers: ['bob', 'dbas'], approvalTtlMinutes: 15 },
    { dbas: ['dave'] },
  );
  engine = await startTestEngine(config, prefix, { clock });
  engine.startWorker({ concurrency: 2 });
});

afterAll(async () => {
  await engine.close();
  await dropPrefix(prefix);
  await fleet.destroy();
  await expectNoLeakedHandles(1000);
});

beforeEach(() => {
  now = new Date();
});

async function startOnRls3() {
  await makeFreshlyRestored(fleet, 'rls-3');
  const outcome = await startRun(engine.deps, {
    topology: 'eng',
    runbook: 'slave-from-master-sql',
    target: 'rls-3',
    requester: alice,
  });
  if (outcome.kind !== 'started') throw new Error('not started');
  return outcome;
}

describe('slave-from-master-sql through BullMQ, with a second person', () => {
  it('runs to the end after a second person approves, and the slave rows are right', async () => {
    const { run, plan } = await startOnRls3();
    expect(await waitForRunState(engine, run.id, ['awaiting-approval'])).toBe('awaiting-approval');
    const steps = await engine.deps.ledger.getSteps(run.id);
    expect(steps.find((s) => s.stepId === 'read-changelog--rls-3')?.result?.captured).toEqual({
      sequenceno: '1030',
      idtag: 'tag-1030',
    });
    expect(steps.filter((s) => s.state === 'awaiting-approval').map((s) => s.stepId)).toEqual([
      'insert-replicator-remote--rls-3',
      'insert-replicator-local--rls-3',
      'insert-replicator-tag--rls-3',
    ]);

    // The requester cannot approve their own run; someone not on the list cannot either.
    await expect(approve(engine.deps, { runId: run.id, approver: alice })).rejects.toThrow(
      /alice started this run/,
    );
    await expect(approve(engine.deps, { runId: run.id, approver: { id: 'carol' } })).rejects.toThrow(
      EngineError,
    );
    expect((await systemRows(fleet, 'rls-3')).replicator_remote).toBeUndefined();

    // bob approves the three INSERTs with one click; a double click counts once.
    const [first, second] = await Promise.all([
      approve(engine.deps, { runId: run.id, approver: bob, planHash: plan.hash }),
      approve(engine.deps, { runId: run.id, approver: bob, planHash: plan.hash }),
    ]);
    expect([first.counted, second.counted].sort()).toEqual([false, true]);

    // Next gate: delete-licenses. dave approves it through the dbas group, then set-server-type.
    await waitForRunState(engine, run.id, ['awaiting-approval']);
    await approve(engine.deps, { runId: run.id, approver: { id: 'dave' } });
    await waitForRunState(engine, run.id, ['awaiting-approval']);
    await approve(engine.deps, { runId: run.id, approver: bob });
    expect(await waitForRunState(engine, run.id, ['done', 'failed'])).toBe('done');

    const rows = await systemRows(fleet, 'rls-3');
    expect(rows).toMatchObject({
      replicator_remote: '1030',
      replicator_local: '1030',
      replicator_tag: 'tag-1030',
      repository_server_type: 'live',
    });
    expect(await onNode(fleet, 'rls-3', 'SELECT * FROM CmLicenses')).toEqual([]);
    const final = await engine.deps.ledger.getSteps(run.id);
    expect(final.every((s) => s.state === 'done')).toBe(true);
    expect(final.find((s) => s.stepId === 'set-server-type--rls-3')?.result?.affectedRows).toBe(1);
    expect(final.filter((s) => s.attempts > 1)).toEqual([]);
    expect(await engine.deps.lease.current('eng')).toBeNull();

    const events = await engine.deps.audit.read(run.id);
    const kinds = events.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'approval')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'approval-refused')).toHaveLength(2);
    expect(kinds.at(-1)).toBe('finish');
    const timeline = renderTimelineMarkdown((await engine.deps.ledger.getRun(run.id))!, plan, events);
    expect(timeline).toContain('bob');
    expect(timeline).toContain('alice');
  });

  it('two concurrent starts on one topology make exactly one run, and the loser is told who holds it', async () => {
    await makeFreshlyRestored(fleet, 'rls-3');
    const attempts = await Promise.allSettled(
      [alice, { id: 'erin' }].map((requester) =>
        startRun(engine.deps, {
          topology: 'eng',
          runbook: 'slave-from-master-sql',
          target: 'rls-3',
          requester,
        }),
      ),
    );
    const started = attempts.filter((a) => a.status === 'fulfilled');
    const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(started).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(String(refused[0]!.reason.message)).toMatch(
      /eng is busy: run eng-.* started by (alice|erin) holds it since/,
    );
    const runId = (started[0] as PromiseFulfilledResult<{ kind: 'started'; run: { id: string } }>).value.run
      .id;
    await waitForRunState(engine, runId, ['awaiting-approval']);
    await reject(engine.deps, runId, bob);
    expect((await engine.deps.ledger.getRun(runId))?.state).toBe('aborted');
    expect(await engine.deps.lease.current('eng')).toBeNull();
  });

  it('refuses an approval after expiry and one naming an old plan hash, each audited', async () => {
    const { run } = await startOnRls3();
    await waitForRunState(engine, run.id, ['awaiting-approval']);
    await expect(
      approve(engine.deps, { runId: run.id, approver: bob, planHash: 'f'.repeat(64) }),
    ).rejects.toThrow(/names plan ffffffffffff/);
    now = new Date(Date.now() + 16 * 60_000);
    await expect(approve(engine.deps, { runId: run.id, approver: bob })).rejects.toThrow(/expired/);
    const refused = (await engine.deps.audit.read(run.id)).filter((e) => e.kind === 'approval-refused');
    expect(refused.map((e) => e.detail.code)).toEqual(['stale-plan', 'expired']);
    await abort(engine.deps, run.id, alice);
    expect((await systemRows(fleet, 'rls-3')).replicator_remote).toBeUndefined();
  });
});
