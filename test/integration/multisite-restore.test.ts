import type { EngineRuntime } from '../../src/app/engine-runtime';
import type { RecordingNotifier } from '../helpers/engine';
import { dropPrefix } from '../helpers/engine';
import { startRun } from '../../src/engine/start';
import type { MultisiteReport } from '../../src/flavours/multisite/report';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { startMultisiteFamily, type MsimFamily } from '../helpers/msim/family';
import { msimBotEnv, multisiteTopology, payloadsAt } from '../helpers/multisite-topology';
import { driveToEnd, pgEngine, settled, stepResult } from '../helpers/pg-runs';

/**
 * Seed 002 end to end: a ClearQuest MultiSite family of four simulated replicas (each its own
 * sshd, PostgreSQL state and storage bay), one loses its storage; multisite-restore restores it
 * through the real engine, a second person approving the restore gate. Its own operations come
 * back up to its last export, the later one is reported lost, every replica converges.
 */
jest.setTimeout(180_000);

const prefix = `t-msrestore-${process.pid}`;
const env = msimBotEnv();
let family: MsimFamily | undefined;
let rt: EngineRuntime | undefined;

afterEach(async () => {
  await rt?.close();
  await family?.close();
  rt = family = undefined;
  await dropPrefix(prefix);
});
afterAll(() => expectNoLeakedHandles(1000));

const payloads = payloadsAt;

it('restores a replica from backup: four siblings acknowledge in parallel, ops up to the last export come back, the loss window is reported', async () => {
  const f = (family = await startMultisiteFamily({
    dialect: 'clearquest',
    replicas: ['boston', 'paris', 'tokyo', 'sydney'],
  }));
  // History: b1 b2 everywhere, p1 everywhere; the backup; b3 b4 exported (boston's last export);
  // b5 never exported; then boston loses its storage while the siblings keep working.
  await f.write('boston', 'b1');
  await f.write('boston', 'b2');
  await f.sync('boston');
  await f.write('paris', 'p1');
  await f.sync('paris');
  const backup = await f.backup('boston');
  await f.write('boston', 'b3');
  await f.write('boston', 'b4');
  await f.sync('boston');
  await f.write('boston', 'b5');
  await f.loseStorage('boston');
  await f.write('tokyo', 't1');
  await f.sync('tokyo', ['paris', 'sydney']);

  const topology = multisiteTopology(f, { backups: { boston: backup } });
  const engine = (rt = await pgEngine(topology, prefix, env));

  // The status proposes restoring boston (its database is gone), with the siblings as the
  // required set and the window: b3..b4 come back from the siblings.
  const report = (await engine.deps.inspect(topology)) as MultisiteReport;
  expect(report.proposal).toMatchObject({
    restore: 'boston',
    evidence: 'database-lost',
    siblings: ['paris', 'tokyo', 'sydney'],
    step3: { open: true, blocking: [] },
    lossWindow: { backupOwnOps: 2, recoverableUpTo: 4, heldBySibling: { paris: 4, tokyo: 4, sydney: 4 } },
  });

  const outcome = await startRun(engine.deps, {
    topology: topology.name,
    runbook: 'multisite-restore',
    target: 'boston',
    requester: { id: 'alice' },
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  expect(outcome.plan.steps.filter((s) => s.risk === 'destructive').map((s) => s.id)).toEqual([
    'restore-database--boston',
    'restorereplica--boston',
  ]);
  expect((await settled(engine, outcome.run.id)).state).toBe('awaiting-approval');

  const { state, gates, reason } = await driveToEnd(engine, outcome.run.id);
  expect({ state, reason }).toEqual({ state: 'done', reason: null });
  expect(gates).toEqual(['restore']);

  // Unlocked by the last acknowledgement; every sibling's checklist item went its way.
  expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });
  const acks = (await stepResult(engine, outcome.run.id, 'acknowledgements'))?.result;
  expect(acks?.checklist?.map((c) => [c.node, c.state, c.stage])).toEqual([
    ['boston', 'done', 'unlocked'],
    ['paris', 'done', 'acked'],
    ['tokyo', 'done', 'acked'],
    ['sydney', 'done', 'acked'],
  ]);
  expect(acks?.checklist?.[0]?.detail).toBe('Database SAMPL is unlocked after restoration.');
  // Each sibling's line went its own way to "acked", which only boston could say.
  expect(acks?.checklist?.[1]?.detail).toBe('acknowledgement imported at boston');

  // Boston has its own ops up to its last export (b3, b4 from the siblings), not b5; all converge.
  const everywhere = ['b1', 'b2', 'b3', 'b4', 'p1', 't1'];
  for (const r of ['boston', 'paris', 'tokyo', 'sydney']) expect(await payloads(f, r)).toEqual(everywhere);

  // The loss window, said at the end of the run.
  const finished = (engine.deps.notifier as RecordingNotifier).events.find((e) => e.type === 'run-finished');
  expect(finished && 'followUp' in finished ? finished.followUp : null).toMatch(
    /^Restoration of boston: boston's own ops 3\.\.4 come back from the siblings; ops made at boston after its last export \(oplog id > 4\) are lost/,
  );
  // Boston takes writes again, with the next oplog id after what came back.
  expect(await f.write('boston', 'b6')).toBe(5);
});

it('ClearCase: checkvob before restorereplica, and the VOB unlocked with cleartool after the last acknowledgement', async () => {
  const f = (family = await startMultisiteFamily({
    dialect: 'clearcase',
    replicas: ['boston', 'paris', 'tokyo'],
  }));
  await f.write('boston', 'b1');
  await f.sync('boston');
  const backup = await f.backup('boston');
  await f.write('boston', 'b2');
  await f.sync('boston');
  await f.loseStorage('boston');
  const topology = multisiteTopology(f, { backups: { boston: backup } });
  const engine = (rt = await pgEngine(topology, prefix, env));
  const outcome = await startRun(engine.deps, {
    topology: topology.name,
    runbook: 'multisite-restore',
    target: 'boston',
    requester: { id: 'alice' },
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  expect(outcome.plan.steps.map((s) => s.templateId)).toContain('unlock-vob');
  const { state, reason } = await driveToEnd(engine, outcome.run.id);
  expect({ state, reason }).toEqual({ state: 'done', reason: null });
  expect((await stepResult(engine, outcome.run.id, 'restorereplica'))?.result?.stdoutTail).toMatch(
    /checkvob: no problems found in VOB "\/vobs\/[a-z]+"[\s\S]*is locked for restoration/,
  );
  const acks = (await stepResult(engine, outcome.run.id, 'acknowledgements'))?.result;
  expect(acks?.checklist?.map((c) => c.stage)).toEqual(['restored', 'acked', 'acked']);
  expect((await stepResult(engine, outcome.run.id, 'unlock-vob'))?.result?.stdoutTail).toMatch(
    /Unlocked versioned object base/,
  );
  expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });
  for (const r of ['boston', 'paris', 'tokyo']) expect(await payloads(f, r)).toEqual(['b1', 'b2']);
});
