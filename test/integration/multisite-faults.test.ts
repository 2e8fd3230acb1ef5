import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import type { EngineRuntime } from '../../src/app/engine-runtime';
import { serviceUrls } from '../../src/config/env';
import { RecoverConfig } from '../../src/config/topology';
import { approve, decide } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import { PlanError } from '../../src/runbook/resolve';
import { dropPrefix, startTestEngine, waitForRunState, type RecordingNotifier } from '../helpers/engine';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { MSIM_PASSWORD, startMultisiteFamily, type MsimFamily } from '../helpers/msim/family';
import { MSIM_PASSWORD_ENV, msimBotEnv, multisiteTopology, payloadsAt } from '../helpers/multisite-topology';
import { approveNext, driveToEnd, pgEngine, settled, stepResult, until } from '../helpers/pg-runs';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

/**
 * The faults of SYSTEMS.md §1.5 on the simulator, each with the outcome it must have: an
 * unreachable sibling keeps step 3 closed and is named; lost, truncated, duplicated and reordered
 * packets and an import killed half-way still end in an unlocked replica (re-export, idempotent
 * import); a write between the restore and restorereplica is refused before anything is locked.
 */
jest.setTimeout(180_000);

const prefix = `t-msfaults-${process.pid}`;
const env = msimBotEnv();
const alice = { id: 'alice' };
let family: MsimFamily | undefined;
let rt: EngineRuntime | undefined;

const workers: WorkerProcess[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await rt?.close();
  await family?.close();
  rt = family = undefined;
  await dropPrefix(prefix);
});
afterAll(() => expectNoLeakedHandles(1000));

const payloads = payloadsAt;

/** b1 everywhere, the backup, b2 exported, then boston's storage is lost. */
async function lostBostonFamily(replicas: string[], transitDelayMs?: number) {
  const f = (family = await startMultisiteFamily({
    dialect: 'clearquest',
    replicas,
    ...(transitDelayMs ? { transitDelayMs } : {}),
  }));
  await f.write('boston', 'b1');
  await f.sync('boston');
  const backup = await f.backup('boston');
  await f.write('boston', 'b2');
  await f.sync('boston');
  await f.loseStorage('boston');
  return { f, topology: multisiteTopology(f, { backups: { boston: backup } }), backup };
}

/** lostBostonFamily with this process's engine running steps. */
async function lostBoston(replicas: string[]) {
  const { f, topology, backup } = await lostBostonFamily(replicas);
  rt = await pgEngine(topology, prefix, env);
  return { f, topology, engine: rt, backup };
}

async function start(engine: EngineRuntime, topology: string) {
  const outcome = await startRun(engine.deps, {
    topology,
    runbook: 'multisite-restore',
    target: 'boston',
    requester: alice,
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  return outcome;
}

it('an unreachable sibling keeps step 3 closed, named unknown; once it answers the restoration completes', async () => {
  const { f, topology, engine } = await lostBoston(['boston', 'paris', 'tokyo']);
  await f.faults.stopSshd('tokyo');
  const outcome = await start(engine, topology.name);
  expect(outcome.plan.warnings.join('\n')).toMatch(
    /tokyo cannot be reached: it is not acknowledged and step 3 stays closed/,
  );
  expect((await settled(engine, outcome.run.id)).state).toBe('awaiting-approval');
  await approveNext(engine, outcome.run.id);

  const gate = await until(
    'step 3 to name tokyo unknown',
    async () => {
      const r = (await stepResult(engine, outcome.run.id, 'no-pending-packets'))?.result;
      const tokyo = r?.checklist?.find((c) => c.node === 'tokyo');
      return tokyo?.state === 'unknown' ? r : undefined;
    },
    60_000,
  );
  expect(gate.checklist?.map((c) => [c.node, c.state])).toEqual([
    ['boston', 'done'],
    ['paris', 'done'],
    ['tokyo', 'unknown'],
  ]);
  // Still closed: nothing was exported, boston stays locked in restoration.
  expect((await stepResult(engine, outcome.run.id, 'export-to-siblings'))?.state ?? 'pending').toBe(
    'pending',
  );
  expect(await f.state('boston')).toMatchObject({ locked: true, restoring: true });

  await f.faults.startSshd('tokyo');
  expect(await driveToEnd(engine, outcome.run.id)).toMatchObject({ state: 'done', reason: null });
  expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });
  for (const r of ['boston', 'paris', 'tokyo']) expect(await payloads(f, r)).toEqual(['b1', 'b2']);
});

it('lost, truncated, duplicated and reordered packets and an import killed half-way: re-exported, imported once, unlocked', async () => {
  const { f, topology, engine } = await lostBoston(['boston', 'paris', 'tokyo', 'sydney']);
  f.faults.dropNextPacket('paris'); // boston's restoration packet to paris never arrives
  f.faults.truncateNextPacket('tokyo'); // tokyo rejects it (checksum)
  f.faults.duplicateNextPacket('sydney'); // sydney gets it twice…
  f.faults.killNextImport('sydney'); // …and its import dies right after the first commit
  f.faults.reorderNextPackets('boston'); // the acknowledgements reach boston out of order
  const outcome = await start(engine, topology.name);
  const { state, gates, reason } = await driveToEnd(engine, outcome.run.id);
  expect({ state, reason, gates }).toEqual({ state: 'done', reason: null, gates: ['restore'] });
  expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });
  for (const r of ['boston', 'paris', 'tokyo', 'sydney']) expect(await payloads(f, r)).toEqual(['b1', 'b2']);

  // What the thread's checklist said on the way (each check of the acknowledgements step).
  const seen = (engine.deps.notifier as RecordingNotifier).events.flatMap((e) =>
    (e.type === 'step-waiting' || e.type === 'step-result') && e.stepId === 'acknowledgements--boston'
      ? (e.result.checklist ?? [])
      : [],
  );
  const said = (node: string) => seen.filter((c) => c.node === node).map((c) => `${c.stage}: ${c.detail}`);
  expect(said('boston').join('\n')).toMatch(/re-exported to .*paris/);
  expect(said('tokyo').join('\n')).toMatch(
    /owes-ack: a packet here is unreadable; import: .* is corrupt .*moved to .*rejected/,
  );
  // Their last word is boston's: it imported their acknowledgements.
  for (const r of ['paris', 'tokyo', 'sydney'])
    expect(said(r).at(-1)).toBe('acked: acknowledgement imported at boston');
  expect(said('sydney').join('\n')).toMatch(/packet-delivered: import failed/);
  // sydney answered twice (boston's packet came twice); the second acknowledgement may land after
  // the unlock. The next routine import at boston takes it, and it changes nothing.
  const importAtBoston = await f.run(
    'boston',
    'multiutil',
    f.command('boston', 'syncreplica', ['-import', '-receive']).slice(1),
  );
  expect(importAtBoston.code).toBe(0);
  expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });
  for (const r of ['boston', 'paris', 'tokyo', 'sydney']) expect(await payloads(f, r)).toEqual(['b1', 'b2']);
  // Nothing is left behind in any bay.
  for (const r of ['boston', 'paris', 'tokyo', 'sydney']) {
    const listed = await f.run(r, 'multiutil', f.command(r, 'lspacket').slice(1));
    expect(listed.stdout.trim()).toBe('');
  }
});

it('a sibling that scrubbed the oplog the replica needs says so; once another sibling returns those entries it answers too', async () => {
  const { f, topology, engine } = await lostBoston(['boston', 'paris', 'tokyo']);
  await f.faults.scrubOplog('tokyo'); // tokyo no longer holds b2, boston's op it would send back
  const outcome = await start(engine, topology.name);
  const { state, reason } = await driveToEnd(engine, outcome.run.id);
  expect({ state, reason }).toEqual({ state: 'done', reason: null });
  expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });
  // b2 came back from paris; boston's next packet to tokyo asked for nothing tokyo lacks.
  for (const r of ['boston', 'paris', 'tokyo']) expect(await payloads(f, r)).toEqual(['b1', 'b2']);

  const seen = (engine.deps.notifier as RecordingNotifier).events.flatMap((e) =>
    (e.type === 'step-waiting' || e.type === 'step-result') && e.stepId === 'acknowledgements--boston'
      ? (e.result.checklist ?? [])
      : [],
  );
  const tokyo = seen.filter((c) => c.node === 'tokyo').map((c) => `${c.stage}: ${c.detail}`);
  expect(tokyo.join('\n')).toMatch(
    /oplog-scrubbed: .*Cannot find oplog entry 2 for replica "boston".*; waiting for another sibling to return those entries to boston \(if none holds them, boston cannot be restored this way: re-create it from a sibling\)/,
  );
  expect(tokyo.at(-1)).toBe('acked: acknowledgement imported at boston');
});

it('a write between the restore and restorereplica is refused: nothing is locked, planning again refuses too', async () => {
  const { f, topology, engine, backup } = await lostBoston(['boston', 'paris', 'tokyo']);
  // The administrator restored the database already: the -actual warning is the evidence.
  expect((await f.run('boston', 'msim-db', ['restore', backup.file])).code).toBe(0);
  const outcome = await start(engine, topology.name);
  expect(outcome.plan.steps[0]!.id).toBe('restorereplica--boston');
  expect((await settled(engine, outcome.run.id)).state).toBe('awaiting-approval');
  await f.write('boston', 'too-early'); // a user's change before restorereplica: oplog id 2 again
  await approveNext(engine, outcome.run.id);
  const run = await settled(engine, outcome.run.id);
  expect(run.state).toBe('failed');
  const step = (await stepResult(engine, outcome.run.id, 'restorereplica'))?.result;
  expect(step?.stderrTail).toMatch(
    /refusing: boston changed after its restore \(own ops 2 > 1 in the backup\)/,
  );
  expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });
  await expect(start(engine, topology.name)).rejects.toThrow(PlanError);
  // Its own row now equals what the siblings hold (oplog id 2 is both b2 and "too-early"): no
  // warning is left to prove a restoration, and none is proposed.
  await expect(start(engine, topology.name)).rejects.toThrow(/boston was not restored from backup/);
});

/**
 * boston lost after b2 was exported, a config file for worker processes of their own, and this
 * process's engine to start the run and decide. The caller removes `dir`.
 */
async function lostBostonWithWorkers(transitDelayMs?: number) {
  const { f, topology } = await lostBostonFamily(['boston', 'paris', 'tokyo'], transitDelayMs);
  const config = RecoverConfig.parse({
    topologies: [{ ...topology, access: { approvers: ['bob'] }, monitor: { enabled: false } }],
  });
  const dir = mkdtempSync(join(tmpdir(), 'recover-mskill-'));
  const file = join(dir, 'recover.yaml');
  writeFileSync(file, YAML.stringify(config));
  const engine = (rt = await startTestEngine(config, prefix, { env }));
  const worker = async () => {
    const w = await startWorkerProcess(file, {
      RECOVER_REDIS_PREFIX: prefix,
      REDIS_URL: serviceUrls().redisUrl,
      [MSIM_PASSWORD_ENV]: MSIM_PASSWORD,
    });
    workers.push(w);
    return w;
  };
  return { f, topology, engine, worker, dir };
}

/**
 * Start the run with a worker process of its own, approve it, and SIGKILL that worker once
 * `stepId` runs and `also` holds (e.g. the host's command got as far as its commit).
 */
async function killWorkerIn(
  setup: Awaited<ReturnType<typeof lostBostonWithWorkers>>,
  stepId: string,
  also: () => Promise<boolean> = async () => true,
) {
  const { engine, worker, topology } = setup;
  const a = await worker();
  const outcome = await start(engine, topology.name);
  await waitForRunState(engine, outcome.run.id, ['awaiting-approval'], 60_000);
  await approve(engine.deps, { runId: outcome.run.id, approver: { id: 'bob' } });
  await until(
    `${stepId} to be running`,
    async () => (await engine.deps.ledger.getStep(outcome.run.id, stepId))?.state === 'running' && also(),
    60_000,
    20,
  );
  a.child.kill('SIGKILL');
  expect(await a.exited).toBe('SIGKILL');
  await worker();
  expect(await waitForRunState(engine, outcome.run.id, ['halted'], 60_000)).toBe('halted');
  expect(await engine.deps.ledger.getStep(outcome.run.id, stepId)).toMatchObject({ state: 'unknown' });
  return outcome.run.id;
}

it('a worker killed while the siblings import: the step is unknown, nothing moves until a human says retry, and the re-run is safe', async () => {
  // The acknowledgements take a while: time to kill the worker in them.
  const setup = await lostBostonWithWorkers(1500);
  const { f, engine } = setup;
  try {
    const runId = await killWorkerIn(setup, 'acknowledgements--boston');
    // Import and export are idempotent: retrying the step is safe whatever the dead attempt did.
    await decide(engine.deps, runId, 'acknowledgements--boston', 'retry', alice);
    expect(await waitForRunState(engine, runId, ['done', 'failed', 'halted'], 90_000)).toBe('done');
    expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });
    for (const r of ['boston', 'paris', 'tokyo']) expect(await payloads(f, r)).toEqual(['b1', 'b2']);
  } finally {
    rmSync(setup.dir, { recursive: true, force: true });
  }
});

it('a worker killed inside restorereplica: the halt says from lsreplica that it ran, and marking it done finishes the restoration', async () => {
  const setup = await lostBostonWithWorkers();
  const { f, engine } = setup;
  try {
    f.faults.slowNextRestore('boston', 8000); // it commits, then keeps running: the worker dies in it
    const runId = await killWorkerIn(
      setup,
      'restorereplica--boston',
      async () => (await f.state('boston')).restoring === true,
    );
    const run = await engine.deps.ledger.getRun(runId);
    expect(run?.reason).toMatch(
      /restorereplica--boston was running when the worker stopped: outcome unknown\. boston: no SQL session to cancel; a command the stopped worker started there over SSH may still be running until it ends\. boston is locked and in restoration \(owed by .*\): restorereplica ran, so mark it done \(a retry would be refused: already in restoration\)/,
    );
    expect(await f.state('boston')).toMatchObject({ locked: true, restoring: true });
    await decide(engine.deps, runId, 'restorereplica--boston', 'mark-done', alice);
    expect(await waitForRunState(engine, runId, ['done', 'failed', 'halted'], 90_000)).toBe('done');
    expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });
    for (const r of ['boston', 'paris', 'tokyo']) expect(await payloads(f, r)).toEqual(['b1', 'b2']);
  } finally {
    rmSync(setup.dir, { recursive: true, force: true });
  }
});
