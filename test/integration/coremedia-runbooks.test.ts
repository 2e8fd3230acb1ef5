import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { approve } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { onNode, systemRows } from '../helpers/coremedia-sql';
import { dropPrefix, startTestEngine, waitForRunState, type TestEngine } from '../helpers/engine';
import { withHosts, type FleetHosts } from '../helpers/fleet-hosts';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { asSshUser, startSshd, type TestSshd } from '../helpers/sshd';

type Engine = 'postgres' | 'mysql';

/** Seeds 000 and 001 end to end through the engine, against real sshd, databases and Redis. */
describe.each<[Engine, string]>([
  ['postgres', 'cmpg'],
  ['mysql', 'cmmy'],
])('CoreMedia runbooks on an all-%s fleet', (engineKind, tag) => {
  const prefix = `t-cmrb-${tag}-${process.pid}`;
  const name = `cmrb-${tag}`;
  let fleet: Fleet;
  let sshd: TestSshd;
  let engine: TestEngine;
  let hosts: FleetHosts;

  const sys = engineKind === 'mysql' ? '`system`' : 'system';
  const nodeCfg = (node: string) => engine.deps.config.topologies[0]!.nodes.find((n) => n.name === node)!;
  // As the SSH test user, like the runbooks' service steps over SSH: they must be able to stop it.
  const serviceState = (node: string) => {
    const s = nodeCfg(node).service!;
    return execFileSync(s.status[0]!, s.status.slice(1), asSshUser()).toString();
  };
  const startLive = (node: string) => {
    const s = nodeCfg(node).service!;
    execFileSync(s.start[0]!, s.start.slice(1), asSshUser());
  };

  /** Start a run, approve every gate as bob, return the finished run and its step records. */
  async function runWithApprovals(runbook: string, target: string | null) {
    const outcome = await startRun(engine.deps, {
      topology: name,
      runbook,
      target,
      requester: { id: 'alice' },
    });
    if (outcome.kind !== 'started') throw new Error(`not started: ${JSON.stringify(outcome)}`);
    const runId = outcome.run.id;
    let clicks = 0;
    for (;;) {
      const state = await waitForRunState(
        engine,
        runId,
        ['awaiting-approval', 'done', 'failed', 'halted'],
        30_000,
      );
      if (state !== 'awaiting-approval') break;
      await approve(engine.deps, { runId, approver: { id: 'bob' } });
      clicks++;
    }
    const run = (await engine.deps.ledger.getRun(runId))!;
    const steps = await engine.deps.ledger.getSteps(runId);
    return { run, steps, clicks, plan: outcome.plan };
  }

  beforeAll(async () => {
    fleet = await testFleet(
      name,
      [
        masterNode(engineKind),
        slaveNode('rls-1', engineKind, 1042),
        slaveNode('rls-2', engineKind, 1042),
        slaveNode('rls-3', engineKind, 1030),
        slaveNode('rls-4', engineKind, 1046, 3),
      ],
      tag,
    );
    sshd = await startSshd();
    hosts = withHosts(fleet, sshd, { approvers: ['bob'] });
    hosts.writeKey('rls-1', 'key-of-rls-1');
    engine = await startTestEngine(hosts.config, prefix, { env: fleet.env });
    engine.startWorker();
    for (const n of ['mls', 'rls-3', 'rls-4', 'rls-2']) startLive(n);
    await new Promise((r) => setTimeout(r, 300));
  }, 60_000);

  afterAll(async () => {
    await engine?.close();
    hosts?.destroy();
    await sshd?.stop();
    await dropPrefix(prefix);
    await fleet?.destroy();
  });

  // First, on the fresh fleet: the other tests rebuild rls-2 and change the majority.
  it('master-from-slave: restores the master and rls-3/rls-4 from rls-1, points every slave at the master', async () => {
    const { run, steps, clicks, plan } = await runWithApprovals('master-from-slave', null);
    expect({ state: run.state, reason: run.reason }).toEqual({ state: 'done', reason: null });
    // Seed 000's closing note, made concrete at the end of the run.
    const finish = (await engine.deps.audit.read(run.id)).at(-1)!;
    expect(finish.kind).toBe('finish');
    expect(finish.summary).toContain(
      'Publications that may need replaying on the Content Server: sequence numbers 1043–1050',
    );
    expect(finish.summary).toMatch(/rls-4's 1046/);
    expect(finish.summary).not.toContain('possibly beyond'); // every node was read
    expect(finish.summary).toMatch(/Master mls is ahead: last changelog 1050/);
    expect(plan.basis.facts).toMatchObject({
      dedicatedSlave: 'rls-1',
      inSync: ['rls-1', 'rls-2'],
      toRestore: ['rls-3', 'rls-4'],
    });
    expect(clicks).toBe(5);
    expect(steps.every((s) => s.state === 'done')).toBe(true);

    for (const table of ['resources', 'changelog']) {
      const q = `SELECT * FROM ${table} ORDER BY ${table === 'changelog' ? 'sequenceno' : 'id'}`;
      expect(await onNode(fleet, 'mls', q)).toEqual(await onNode(fleet, 'rls-1', q));
    }
    const [last] = await onNode<{ sequenceno: string | number; idtag: string }>(
      fleet,
      'mls',
      `SELECT * FROM changelog WHERE sequenceno = (SELECT max(sequenceno) FROM changelog)`,
    );
    for (const slave of ['rls-1', 'rls-2', 'rls-3', 'rls-4']) {
      expect(await systemRows(fleet, slave)).toMatchObject({
        replicator_remote: String(last!.sequenceno),
        replicator_local: String(last!.sequenceno),
        replicator_tag: last!.idtag,
      });
    }
    for (const node of ['mls', 'rls-3', 'rls-4']) {
      const n = nodeCfg(node);
      const key = join(hosts.homes[node]!, 'etc', 'keys', `${n.db!.database}.${n.db!.user}.rijndael`);
      expect(readFileSync(key, 'utf8')).toBe('key-of-rls-1');
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(serviceState(node)).toMatch(/running/);
    }
    expect(await onNode(fleet, 'rls-4', `SELECT * FROM ReplicatorIdTable`)).toEqual([]);
  }, 60_000);

  /**
   * Seed 000 leaves the restored master with the dedicated slave's replicator rows (and server
   * type 'live'); seed 001 expects a master without them (its INSERTs would hit the primary key).
   * Put the master back in the state seed 001 assumes; the gap is reported, not papered over.
   */
  async function asNormalMaster(): Promise<void> {
    await onNode(
      fleet,
      'mls',
      `DELETE FROM ${sys} WHERE property IN ('replicator_remote', 'replicator_local', 'replicator_tag')`,
    );
  }

  it("slave-from-master fails at set-server-type while the master's server type is 'live'", async () => {
    // As after seed 000, when the master carries the dedicated slave's server type: seed 001's
    // "Updated 1 rows" does not hold, and the run must stop there.
    await asNormalMaster();
    await onNode(fleet, 'mls', `UPDATE ${sys} SET content='live' WHERE property='repository_server_type'`);
    const { run, steps } = await runWithApprovals('slave-from-master', 'rls-2');
    expect(run.state).toBe('failed');
    expect(run.reason).toContain('set-server-type--rls-2');
    expect(run.reason).toContain('expected exactly 1 row updated, got 0');
    expect(steps.find((s) => s.stepId === 'start-slave--rls-2')?.state).not.toBe('done');
  }, 45_000);

  it('slave-from-master: rebuilds rls-2 from the master', async () => {
    await asNormalMaster();
    await onNode(
      fleet,
      'mls',
      `UPDATE ${sys} SET content='publication' WHERE property='repository_server_type'`,
    );
    await onNode(fleet, 'mls', `INSERT INTO CmLicenses (id, license) VALUES (77, 'seat')`);
    const { run } = await runWithApprovals('slave-from-master', 'rls-2');
    expect({ state: run.state, reason: run.reason }).toEqual({ state: 'done', reason: null });
    const [last] = await onNode<{ sequenceno: string | number; idtag: string }>(
      fleet,
      'rls-2',
      `SELECT * FROM changelog WHERE sequenceno = (SELECT max(sequenceno) FROM changelog)`,
    );
    expect(await systemRows(fleet, 'rls-2')).toMatchObject({
      replicator_remote: String(last!.sequenceno),
      replicator_local: String(last!.sequenceno),
      replicator_tag: last!.idtag,
      repository_server_type: 'live',
    });
    expect(await onNode(fleet, 'rls-2', 'SELECT * FROM CmLicenses')).toEqual([]);
    expect(serviceState('rls-2')).toMatch(/running/);
  }, 45_000);
});
