import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { approve } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import type { Runbook } from '../../src/runbook/types';
import { onNode } from '../helpers/coremedia-sql';
import { dropPrefix, startTestEngine, waitForRunState, type TestEngine } from '../helpers/engine';
import { withHosts, type FleetHosts } from '../helpers/fleet-hosts';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { asSshUser, startSshd, type TestSshd } from '../helpers/sshd';

/** Seed 000's host-side steps for the master, as one small runbook: the executors the full runbooks will use. */
const restoreMaster: Runbook = {
  name: 'restore-master-host-steps',
  flavour: 'coremedia',
  title: 'Stop the master, copy the key, restore from the dedicated slave, start the master',
  source: '000_f77c06dcedba2dfe.txt',
  target: 'none',
  steps: [
    {
      id: 'stop-master',
      title: 'Stop the Master Live Server',
      target: { kind: 'master' },
      action: { kind: 'service', operation: 'stop' },
      risk: 'destructive',
      gate: 'stop-master',
    },
    {
      id: 'copy-key',
      title: 'Copy the Rijndael key to the master',
      target: { kind: 'master' },
      action: { kind: 'file-copy', from: { kind: 'dedicated-slave' }, file: 'rijndael-key' },
      risk: 'write',
    },
    {
      id: 'drop-schema',
      title: 'Delete the full Master Live Server database schema',
      target: { kind: 'master' },
      action: { kind: 'drop-schema' },
      risk: 'destructive',
      gate: 'restore',
    },
    {
      id: 'restore',
      title: 'Import the dedicated slave backup into the master',
      target: { kind: 'master' },
      action: { kind: 'dump-restore', from: { kind: 'dedicated-slave' } },
      risk: 'destructive',
      gate: 'restore',
    },
    {
      id: 'read-changelog',
      title: 'On the master, fetch the last changelog entry',
      target: { kind: 'master' },
      action: {
        kind: 'sql',
        sql: 'SELECT * FROM {{changelog}} WHERE sequenceno = (SELECT max(sequenceno) FROM {{changelog}})',
        params: [],
      },
      risk: 'read',
      captures: [{ name: 'sequenceno', column: 'sequenceno' }],
    },
    {
      id: 'start-master',
      title: 'Restart the Master Live Server',
      target: { kind: 'master' },
      action: { kind: 'service', operation: 'start' },
      risk: 'write',
    },
  ],
};

const prefix = `t-hostact-${process.pid}`;
let fleet: Fleet;
let sshd: TestSshd;
let engine: TestEngine;
let hosts: FleetHosts;

beforeAll(async () => {
  fleet = await testFleet(
    'hostact',
    [masterNode('postgres'), slaveNode('rls-1', 'postgres', 1042), slaveNode('rls-2', 'postgres', 1042)],
    'hact',
  );
  sshd = await startSshd();
  hosts = withHosts(fleet, sshd, { approvers: ['bob'] });
  // rls-1 (the dedicated slave) has encrypted passwords: its key must reach the master, renamed.
  hosts.writeKey('rls-1', 'key-of-rls-1');
  engine = await startTestEngine(hosts.config, prefix, { env: fleet.env });
  Object.assign(engine.deps, {
    runbook: (name: string) => (name === restoreMaster.name ? restoreMaster : undefined),
  });
  engine.startWorker();
});

afterAll(async () => {
  await engine?.close();
  hosts?.destroy();
  await sshd?.stop();
  await dropPrefix(prefix);
  await fleet?.destroy();
});

it('stops the master over SSH, copies the key over SFTP, restores from the dedicated slave, starts the master', async () => {
  const masterService = engine.deps.config.topologies[0]!.nodes.find((n) => n.name === 'mls')!.service!;
  // As the SSH test user, whom the stop step over SSH runs as.
  execFileSync(masterService.start[0]!, masterService.start.slice(1), asSshUser());
  await new Promise((r) => setTimeout(r, 500));

  const outcome = await startRun(engine.deps, {
    topology: 'hostact',
    runbook: restoreMaster.name,
    target: null,
    requester: { id: 'alice' },
  });
  if (outcome.kind !== 'started') throw new Error('not started');
  const runId = outcome.run.id;
  for (;;) {
    const state = await waitForRunState(
      engine,
      runId,
      ['awaiting-approval', 'done', 'failed', 'halted'],
      30_000,
    );
    if (state !== 'awaiting-approval') break;
    await approve(engine.deps, { runId, approver: { id: 'bob' } });
  }
  const run = await engine.deps.ledger.getRun(runId);
  expect({ state: run?.state, reason: run?.reason }).toEqual({ state: 'done', reason: null });

  // The master's data is now the dedicated slave's.
  const order = 'SELECT * FROM resources ORDER BY id';
  expect(await onNode(fleet, 'mls', order)).toEqual(await onNode(fleet, 'rls-1', order));
  const steps = await engine.deps.ledger.getSteps(runId);
  expect(steps.find((s) => s.stepId === 'read-changelog--mls')?.result?.captured).toEqual({
    sequenceno: '1042',
  });
  expect(steps.find((s) => s.stepId === 'restore--mls')?.result?.bytes).toBeGreaterThan(0);

  // The key, renamed to the master's own database and user, mode 0600.
  const masterDb = fleet.databases.find((d) => d.node === 'mls')!.database;
  const key = join(hosts.homes.mls!, 'etc', 'keys', `${masterDb}.postgres.rijndael`);
  expect(readFileSync(key, 'utf8')).toBe('key-of-rls-1');
  expect(statSync(key).mode & 0o777).toBe(0o600);

  // Stopped before anything was dropped, running again at the end.
  const transcript = steps.find((s) => s.stepId === 'stop-master--mls')?.result?.stdoutTail ?? '';
  expect(transcript).toMatch(/stop/);
  expect(
    execFileSync(masterService.status[0]!, masterService.status.slice(1), asSshUser()).toString(),
  ).toMatch(/running/);
}, 90_000);
