import { requireSql, type SqlNode } from '../../src/config/topology';
import { openDb } from '../../src/db/connect';
import { approve } from '../../src/engine/decisions';
import { startRun } from '../../src/engine/start';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { SshExecutor } from '../../src/hosts/ssh-executor';
import { buildDumpRestore } from '../../src/restore/commands';
import { toStepResult } from '../../src/restore/dump-restore';
import {
  remoteCommand,
  remoteDumpRestore,
  runsOverSsh,
  type RemoteDumpRestoreOptions,
} from '../../src/restore/remote-dump-restore';
import { dropAndRecreateSchema } from '../../src/restore/schema';
import type { Runbook } from '../../src/runbook/types';
import { onNode } from '../helpers/coremedia-sql';
import { dropPrefix, startTestEngine, waitForRunState } from '../helpers/engine';
import { withHosts } from '../helpers/fleet-hosts';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { startSshd, type TestSshd } from '../helpers/sshd';

type Engine = 'postgres' | 'mysql';

function describeEngine(engine: Engine): void {
  describe(`dump → restore over SSH, ${engine}`, () => {
    let fleet: Fleet;
    let sshd: TestSshd;
    const executors: SshExecutor[] = [];
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    const q = (t: string) => (engine === 'mysql' ? `\`${t}\`` : t);
    /** The node with its host on `server` (the shared sshd unless told). */
    const node = (name: string, server: TestSshd = sshd, database?: string): SqlNode => {
      const n = fleet.config.topologies[0]!.nodes.find((x) => x.name === name)!;
      return { ...n, host: server.hostConfig(), db: { ...n.db, database: database ?? n.db.database } };
    };
    const hostsOn = (server: TestSshd) => {
      const s = new SshExecutor('source', server.hostConfig(), { killGraceMs: 500 });
      const t = new SshExecutor('target', server.hostConfig(), { killGraceMs: 500 });
      executors.push(s, t);
      return { source: s, target: t };
    };
    const opts = (extra: Partial<RemoteDumpRestoreOptions> = {}): RemoteDumpRestoreOptions => ({
      env,
      timeoutMs: 60_000,
      killGraceMs: 1000,
      ...extra,
    });
    const rows = async (n: string) => ({
      resources: await onNode(fleet, n, `SELECT * FROM ${q('resources')} ORDER BY id`),
      changelog: await onNode(fleet, n, `SELECT * FROM ${q('changelog')} ORDER BY sequenceno`),
    });
    const emptied = async (n: string) => {
      const db = openDb(node(n), { env });
      await dropAndRecreateSchema(node(n), db).finally(() => db.close());
    };
    const missing = `rf_missing_${process.pid}`;
    const tables = (n: string) =>
      onNode(
        fleet,
        n,
        engine === 'postgres'
          ? `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`
          : `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()`,
      );

    beforeAll(async () => {
      const pw = (p: string) => (engine === 'mysql' ? { password: p } : {});
      fleet = await testFleet(
        `rdr-${engine === 'mysql' ? 'my' : 'pg'}`,
        [
          { ...masterNode(engine), ...pw('tgt-Pw-1') },
          { ...slaveNode('rls1', engine, 1100, 3), changelog: { last: 1100, count: 40 }, ...pw('src-Pw-1') },
          slaveNode('big', engine, 1100),
          slaveNode('sink', engine, 1000),
        ],
        `rdr${engine === 'mysql' ? 'my' : 'pg'}`,
      );
      Object.assign(env, fleet.env);
      await onNode(fleet, 'rls1', `INSERT INTO ${q('resources')} (id, name, version) VALUES (100, ?, NULL)`, [
        "Grüße 'quoted' \\ back",
      ]);
      // ~200k rows of poorly compressible text so that the stream lasts long enough to be cut.
      await onNode(
        fleet,
        'big',
        engine === 'postgres'
          ? `INSERT INTO resources SELECT g, md5(g::text) || md5((g + 1)::text), g FROM generate_series(10, 200009) g`
          : `INSERT INTO resources SELECT seq, CONCAT(MD5(seq), MD5(seq + 1)), seq FROM seq_10_to_200009`,
      );
      sshd = await startSshd();
    }, 60_000);

    afterAll(async () => {
      await Promise.allSettled(executors.map((e) => e.close()));
      await sshd?.stop();
      await fleet?.destroy();
    });

    it('runs the dump on the source host and the restore on the target host, copying every row', async () => {
      expect(runsOverSsh(node('rls1'), node('mls'))).toBe(true);
      expect(runsOverSsh({ ...node('rls1'), host: { transport: 'local' } }, node('mls'))).toBe(false);
      const source = await rows('rls1');
      expect(source.resources).toHaveLength(6);
      expect(await rows('mls')).not.toEqual(source);
      await emptied('mls');
      const r = await remoteDumpRestore(node('rls1'), node('mls'), hostsOn(sshd), opts());
      expect(r.error).toBeNull();
      expect(r).toMatchObject({ ok: true, timedOut: false, dump: { exitCode: 0 }, restore: { exitCode: 0 } });
      expect(r.bytes).toBeGreaterThan(0);
      expect(r.dump.pid).toBeGreaterThan(0);
      expect(await rows('mls')).toEqual(source);
      expect(toStepResult(r)).toMatchObject({ ok: true, exitCode: 0, bytes: r.bytes, error: null });
      // The passwords travel only inside the remote command, never in what the result shows.
      const text = JSON.stringify([r, toStepResult(r)]);
      expect(text).not.toContain('Pw-1');
    });

    it('puts the password into the remote command as an env assignment, not into any argv the bot runs', () => {
      const cmds = buildDumpRestore(node('rls1'), node('mls'), env, { dump: 'x', restore: 'y' });
      const withPw = { ...cmds.dump, env: { ...cmds.dump.env, PGPASSWORD: "it's $secret" } };
      const argv = remoteCommand(withPw, ['pg_dump']);
      expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
      expect(argv[2]).toMatch(/exec env .*'PGPASSWORD=it'\\''s \$secret' \$tie "\$t" /);
      expect(argv[2]).not.toContain('PATH=');
    });

    it('fails on the dump side when the source database does not exist, and never reports the restore as done', async () => {
      await emptied('sink');
      const r = await remoteDumpRestore(node('rls1', sshd, missing), node('sink'), hostsOn(sshd), opts());
      expect(r.ok).toBe(false);
      expect(r.cause).toBe('dump');
      expect(r.error).toMatch(/^dump of rls1 .*did not complete/);
      expect(r.error).toContain(missing);
      expect(r.dump.exitCode).not.toBe(0);
      expect(r.restore.exitCode).not.toBe(0);
      expect(toStepResult(r).ok).toBe(false);
      // Killed before its end of input: nothing of the dump reached the sink.
      expect(await tables('sink')).toEqual([]);
    });

    it('redacts the password from the tails and the error', async () => {
      // PostgreSQL trusts loopback and ignores the password, so one equal to the database name shows up in stderr.
      const source: SqlNode = {
        ...node('rls1', sshd, missing),
        db: {
          ...node('rls1', sshd, missing).db,
          ...(engine === 'postgres' ? { passwordEnv: 'RDR_FAKE_PW' } : {}),
        },
      };
      const r = await remoteDumpRestore(source, node('sink'), hostsOn(sshd), {
        ...opts({ env: { ...env, RDR_FAKE_PW: missing } }),
        ...(engine === 'mysql' ? { secrets: [missing] } : {}),
      });
      expect(r.ok).toBe(false);
      expect(r.dump.stderrTail).toContain('[redacted]');
      expect(r.error).not.toContain(missing);
      expect(toStepResult(r).stderrTail).not.toContain(missing);
    });

    it('stops both sides when the timeout hits', async () => {
      await emptied('sink');
      // The stream's own timeout: no clear first, whose time would come off the same deadline.
      const r = await remoteDumpRestore(
        node('big'),
        node('sink'),
        hostsOn(sshd),
        opts({ timeoutMs: 300, clearTarget: false }),
      );
      expect(r).toMatchObject({ ok: false, timedOut: true, cause: 'timeout' });
      expect(r.error).toMatch(/^timed out after 300 ms/);
    });

    it('fails with "connection lost, outcome unknown" when sshd dies during the stream, never ok', async () => {
      await emptied('sink');
      const doomed = await startSshd();
      try {
        let killed: Promise<void> | undefined;
        const r = await remoteDumpRestore(
          node('big', doomed),
          node('sink', doomed),
          hostsOn(doomed),
          opts({ onProgress: (bytes) => void (bytes > 0 && (killed ??= doomed.kill())) }),
        );
        expect(killed).toBeDefined();
        await killed;
        expect(r.ok).toBe(false);
        expect(r.bytes).toBeGreaterThan(0);
        expect(r.error).toMatch(/SSH connection lost/);
        expect(r.error).toMatch(/outcome unknown/);
        expect(toStepResult(r)).toMatchObject({ ok: false });
      } finally {
        await doomed.stop();
      }
    }, 30_000);
  });
}

describeEngine('postgres');
describeEngine('mysql');

describe('dump → restore over SSH through the engine', () => {
  const runbook: Runbook = {
    name: 'remote-dump-restore-only',
    flavour: 'coremedia',
    title: 'Import the dedicated slave backup into the master',
    source: '000_f77c06dcedba2dfe.txt',
    target: 'none',
    steps: [
      {
        id: 'restore',
        title: 'Import the dedicated slave backup into the master',
        target: { kind: 'master' },
        action: { kind: 'dump-restore', from: { kind: 'dedicated-slave' } },
        risk: 'destructive',
        gate: 'restore',
      },
    ],
  };
  const prefix = `t-rdr-${process.pid}`;
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await testFleet('rdreng', [masterNode('postgres'), slaveNode('rls-1', 'postgres', 1042)], 'rdre');
    await onNode(
      fleet,
      'rls-1',
      `INSERT INTO resources SELECT g, md5(g::text) || md5((g + 1)::text), g FROM generate_series(10, 200009) g`,
    );
  }, 60_000);

  afterAll(async () => {
    await dropPrefix(prefix);
    await fleet?.destroy();
  });

  it('fails the step (not done) and the run when sshd is killed mid-stream', async () => {
    const sshd = await startSshd();
    const hosts = withHosts(fleet, sshd, { approvers: ['bob'] });
    const engine = await startTestEngine(hosts.config, prefix, { env: fleet.env });
    try {
      Object.assign(engine.deps, {
        runbook: (name: string) => (name === runbook.name ? runbook : undefined),
      });
      engine.startWorker();
      // An empty master, so that only the cut stream can fail the restore.
      const mls = hosts.config.topologies[0]!.nodes.find((n) => n.name === 'mls')!;
      const db = openDb(mls, { env: fleet.env });
      await dropAndRecreateSchema(requireSql(mls), db).finally(() => db.close());
      const outcome = await startRun(engine.deps, {
        topology: 'rdreng',
        runbook: runbook.name,
        target: null,
        requester: { id: 'alice' },
      });
      if (outcome.kind !== 'started') throw new Error('not started');
      const runId = outcome.run.id;
      expect(await waitForRunState(engine, runId, ['awaiting-approval'], 30_000)).toBe('awaiting-approval');
      await approve(engine.deps, { runId, approver: { id: 'bob' } });
      // pg_restore is copying rows into the master: cut the stream.
      const masterDb = fleet.databases.find((d) => d.node === 'mls')!.database;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const active = await onNode(
          fleet,
          'rls-1',
          `SELECT pid FROM pg_stat_activity WHERE datname = ? AND query ILIKE 'COPY%'`,
          [masterDb],
        );
        if (active.length > 0) break;
        if (Date.now() > deadline) throw new Error('the restore never connected');
        await new Promise((r) => setTimeout(r, 10));
      }
      await sshd.kill();
      const state = await waitForRunState(engine, runId, ['done', 'failed', 'halted'], 60_000);
      const run = await engine.deps.ledger.getRun(runId);
      const step = (await engine.deps.ledger.getSteps(runId)).find((s) => s.stepId === 'restore--mls');
      expect(step?.state).toBe('failed');
      expect(step?.result?.ok).toBe(false);
      expect(step?.result?.error).toMatch(/SSH connection lost.*outcome unknown/);
      expect(state).toBe('failed');
      expect(run?.reason ?? '').toMatch(/SSH connection lost|outcome unknown|restore/);
    } finally {
      await engine.close();
      hosts.destroy();
      await sshd.stop();
    }
  }, 120_000);
});
