import type { SqlNode } from '../../src/config/topology';
import { openDb } from '../../src/db/connect';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { OutputTail } from '../../src/hosts/redact';
import { buildDumpRestore, DumpRestoreError } from '../../src/restore/commands';
import { dumpRestore, toStepResult, type DumpRestoreOptions } from '../../src/restore/dump-restore';
import { dropAndRecreateSchema } from '../../src/restore/schema';
import { onNode } from '../helpers/coremedia-sql';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';

type Engine = 'postgres' | 'mysql';
const BLOB = Buffer.from([0, 1, 2, 0x27, 0x5c, 0xff, 0x0a]);

function gone(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** The state the restore must carry over: table list and every row of the tables that matter. */
async function snapshot(fleet: Fleet, node: string, engine: Engine) {
  const q = (t: string) => (engine === 'mysql' ? `\`${t}\`` : t);
  const tables = await onNode(
    fleet,
    node,
    engine === 'postgres'
      ? `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`
      : `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1`,
  );
  return {
    tables: tables.map((r) => String(r.t).toLowerCase()),
    resources: await onNode(fleet, node, `SELECT * FROM ${q('resources')} ORDER BY id`),
    changelog: await onNode(fleet, node, `SELECT * FROM ${q('changelog')} ORDER BY sequenceno`),
    system: await onNode(fleet, node, `SELECT * FROM ${q('system')} ORDER BY property`),
    replicatorIds: await onNode(fleet, node, `SELECT * FROM ${q('ReplicatorIdTable')} ORDER BY id`),
    licenses: await onNode(fleet, node, `SELECT * FROM ${q('CmLicenses')} ORDER BY id`),
    blobs: await onNode(fleet, node, `SELECT * FROM ${q('blobs')} ORDER BY id`),
  };
}

function describeEngine(engine: Engine): void {
  describe(`dump → restore, ${engine}`, () => {
    let fleet: Fleet;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    const node = (name: string): SqlNode => fleet.config.topologies[0]!.nodes.find((n) => n.name === name)!;
    const withDb = (name: string, database: string): SqlNode => ({
      ...node(name),
      db: { ...node(name).db, database },
    });
    const opts = (extra: Partial<DumpRestoreOptions> = {}): DumpRestoreOptions => ({
      env,
      timeoutMs: 30_000,
      killGraceMs: 1000,
      ...extra,
    });
    const missing = `rf_missing_${process.pid}`;
    /** An empty sink, so that only the interruption under test can make the restore fail. */
    const emptySink = async () => {
      const db = openDb(node('sink'), { env });
      await dropAndRecreateSchema(node('sink'), db).finally(() => db.close());
    };
    const blobType = engine === 'mysql' ? 'LONGBLOB' : 'BYTEA';

    beforeAll(async () => {
      // MariaDB nodes get their own users with passwords: MYSQL_PWD is on the path under test.
      const pw = (p: string) => (engine === 'mysql' ? { password: p } : {});
      fleet = await testFleet(
        `dr-${engine === 'mysql' ? 'my' : 'pg'}`,
        [
          { ...masterNode(engine), ...pw('tgt-Pw-1') },
          { ...slaveNode('rls1', engine, 1100, 3), changelog: { last: 1100, count: 40 }, ...pw('src-Pw-1') },
          slaveNode('rls2', engine, 1090),
          slaveNode('big', engine, 1100),
          slaveNode('sink', engine, 1000),
        ],
        `dr${engine === 'mysql' ? 'my' : 'pg'}`,
      );
      Object.assign(env, fleet.env);
      // Source: an FK, binary data, non-ASCII text and a NULL, all of which must survive.
      await onNode(fleet, 'rls1', `INSERT INTO resources (id, name, version) VALUES (100, ?, NULL)`, [
        "Grüße 🚀 'quoted' \\ back",
      ]);
      await onNode(
        fleet,
        'rls1',
        `CREATE TABLE blobs (id INT PRIMARY KEY, rid BIGINT, data ${blobType}, FOREIGN KEY (rid) REFERENCES resources (id))`,
      );
      await onNode(fleet, 'rls1', `INSERT INTO blobs (id, rid, data) VALUES (1, 100, ?), (2, 1, NULL)`, [
        BLOB,
      ]);
      // Target: objects the source does not have, including a view and an FK into resources.
      await onNode(
        fleet,
        'mls',
        `CREATE TABLE target_extra (id INT PRIMARY KEY, rid BIGINT, FOREIGN KEY (rid) REFERENCES resources (id))`,
      );
      await onNode(fleet, 'mls', `INSERT INTO target_extra VALUES (1, 1)`);
      await onNode(fleet, 'mls', `CREATE VIEW target_view AS SELECT id FROM resources`);
      // ~200k rows of poorly compressible text so that a dump takes a moment.
      await onNode(
        fleet,
        'big',
        engine === 'postgres'
          ? `INSERT INTO resources SELECT g, md5(g::text) || md5((g + 1)::text), g FROM generate_series(10, 200009) g`
          : `INSERT INTO resources SELECT seq, CONCAT(MD5(seq), MD5(seq + 1)), seq FROM seq_10_to_200009`,
      );
    }, 60_000);

    afterAll(async () => {
      await fleet?.destroy();
      await expectNoLeakedHandles();
    });

    it('drops the target schema, then restores the source so that both hold the same tables and rows', async () => {
      const source = await snapshot(fleet, 'rls1', engine);
      expect(source.resources).toHaveLength(6);
      const q = engine === 'mysql' ? '`resources`' : 'resources';
      expect(await onNode(fleet, 'mls', `SELECT * FROM ${q} ORDER BY id`)).not.toEqual(source.resources);
      const db = openDb(node('mls'), { env });
      try {
        const dropped = await dropAndRecreateSchema(node('mls'), db);
        expect(dropped.dropped).toEqual(
          expect.arrayContaining([
            { kind: 'table', name: engine === 'mysql' ? 'ReplicatorIdTable' : 'replicatoridtable' },
            { kind: 'table', name: 'target_extra' },
            { kind: 'view', name: 'target_view' },
          ]),
        );
        // The pooled session must get its foreign key checks back.
        if (engine === 'mysql')
          expect(Number((await db.query('SELECT @@SESSION.foreign_key_checks AS f')).rows[0]?.f)).toBe(1);
      } finally {
        await db.close();
      }
      const r = await dumpRestore(node('rls1'), node('mls'), opts());
      expect(r.error).toBeNull();
      expect(r).toMatchObject({ ok: true, timedOut: false, dump: { exitCode: 0 }, restore: { exitCode: 0 } });
      expect(r.bytes).toBeGreaterThan(0);
      const after = await snapshot(fleet, 'mls', engine);
      expect(after).toEqual(source);
      expect(after.tables).not.toContain('target_extra');
      expect(after.blobs[0]!.data).toEqual(BLOB);
      expect(toStepResult(r)).toMatchObject({ ok: true, exitCode: 0, bytes: r.bytes, error: null });

      // Again from the node just restored (its public schema is the recreated one) into another.
      const db2 = openDb(node('rls2'), { env });
      try {
        await dropAndRecreateSchema(node('rls2'), db2);
      } finally {
        await db2.close();
      }
      const again = await dumpRestore(node('mls'), node('rls2'), opts());
      expect(again.error).toBeNull();
      expect(await snapshot(fleet, 'rls2', engine)).toEqual(after);
    });

    it('fails on the dump side when the source database does not exist, and never reports the restore as done', async () => {
      const r = await dumpRestore(withDb('rls1', missing), node('sink'), opts());
      expect(r.ok).toBe(false);
      expect(r.error).toContain(missing);
      expect(r.error).toMatch(/dump of rls1 .*did not complete/);
      expect(r.cause).toBe('dump');
      expect(toStepResult(r).exitCode).toBe(r.dump.exitCode);
      expect(r.dump.exitCode).not.toBe(0);
      expect(r.restore.exitCode).not.toBe(0);
      expect(toStepResult(r).ok).toBe(false);
    });

    it('fails on the restore side when the target cannot be written', async () => {
      // PostgreSQL: a database that does not exist; MariaDB: mls's user has no rights on sink's database.
      const target =
        engine === 'postgres'
          ? withDb('sink', missing)
          : withDb('mls', fleet.databases.find((d) => d.node === 'sink')!.database);
      const r = await dumpRestore(node('rls1'), target, opts());
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/^restore into (sink|mls) .* failed/);
      expect(r.cause).toBe('restore');
      expect(r.error).toMatch(engine === 'postgres' ? /does not exist/ : /Access denied/);
      expect(r.restore.exitCode).not.toBe(0);
    });

    it.each([1, 1_000_000])(
      'never reports success when the dump dies mid-stream (killed after %i bytes)',
      async (at) => {
        await emptySink();
        let dumpPid: number | undefined;
        let killed = false;
        const r = await dumpRestore(
          node('big'),
          node('sink'),
          opts({
            onSpawn: (pids) => (dumpPid = pids.dump),
            onProgress: (bytes) => {
              if (!killed && bytes >= at && dumpPid) {
                killed = true;
                process.kill(dumpPid, 'SIGKILL');
              }
            },
          }),
        );
        expect(killed).toBe(true);
        expect(r.ok).toBe(false);
        expect(r.dump.signal).toBe('SIGKILL');
        expect(r.error).toMatch(/^dump of big .*did not complete: it was killed by SIGKILL/);
        expect(r.restore.exitCode).not.toBe(0);
      },
    );

    it('fails when the restore exits 0 without reading the whole dump', async () => {
      const real = buildDumpRestore(node('big'), node('sink'), env);
      const tools = { dump: real.dump.argv[0]!, restore: '/bin/true' };
      const r = await dumpRestore(node('big'), node('sink'), opts({ tools }));
      expect(r).toMatchObject({ ok: false, cause: 'restore', restore: { exitCode: 0 } });
      expect(r.error).toMatch(
        /^restore into sink \(true\) failed: it exited with code 0 before consuming the whole dump/,
      );
    });

    it('stops both processes when the timeout hits', async () => {
      await emptySink();
      let pids: { dump?: number; restore?: number } = {};
      const r = await dumpRestore(
        node('big'),
        node('sink'),
        // The stream's own timeout: no clear first, whose time would come off the same deadline.
        opts({ timeoutMs: 150, clearTarget: false, onSpawn: (p) => (pids = p) }),
      );
      expect(r).toMatchObject({ ok: false, timedOut: true, cause: 'timeout' });
      expect(r.error).toMatch(/^timed out after 150 ms/);
      expect(pids.dump).toBeGreaterThan(0);
      expect(gone(pids.dump)).toBe(true);
      expect(gone(pids.restore)).toBe(true);
    });

    it('keeps passwords out of argv and redacts them (and other secrets) from tails and the error', async () => {
      const cmds = buildDumpRestore(node('rls1'), node('mls'), { ...env, SLACK_BOT_TOKEN: 'xoxb-1' });
      const joined = [...cmds.dump.argv, ...cmds.restore.argv].join(' ');
      if (engine === 'mysql') {
        expect(cmds.dump.env.MYSQL_PWD).toBe('src-Pw-1');
        expect(cmds.restore.env.MYSQL_PWD).toBe('tgt-Pw-1');
        expect(joined).not.toContain('Pw-1');
        expect([...cmds.dump.argv, ...cmds.restore.argv].filter((a) => /^(-p|--password)/.test(a))).toEqual(
          [],
        );
      }
      expect(joined).not.toContain('PASSWORD');
      expect(cmds.dump.env).not.toHaveProperty('SLACK_BOT_TOKEN');
      expect(cmds.dump.argv[0]).toMatch(/^\/.*(pg_dump|mysqldump|mariadb-dump)$/);

      // PostgreSQL trusts loopback and ignores the password, so one equal to the database name shows up in stderr.
      const secretEnv = engine === 'postgres' ? { DR_FAKE_PW: missing } : {};
      const source: SqlNode = {
        ...withDb('rls1', missing),
        db: {
          ...withDb('rls1', missing).db,
          ...(engine === 'postgres' ? { passwordEnv: 'DR_FAKE_PW' } : {}),
        },
      };
      const r = await dumpRestore(source, node('sink'), {
        ...opts({ env: { ...env, ...secretEnv } }),
        ...(engine === 'mysql' ? { secrets: [missing] } : {}),
      });
      expect(r.ok).toBe(false);
      expect(r.dump.stderrTail).toContain('[redacted]');
      expect(r.dump.stderrTail).not.toContain(missing);
      expect(r.error).not.toContain(missing);
      expect(toStepResult(r).stderrTail).not.toContain(missing);
    });

    if (engine === 'mysql')
      it('refuses to drop anything when a table name is not a plain identifier', async () => {
        await onNode(fleet, 'sink', 'CREATE TABLE `odd-name` (id INT)');
        const count = async () => (await onNode(fleet, 'sink', 'SHOW TABLES')).length;
        const before = await count();
        const db = openDb(node('sink'), { env });
        await expect(dropAndRecreateSchema(node('sink'), db).finally(() => db.close())).rejects.toMatchObject(
          {
            code: 'UNSAFE_IDENTIFIER',
          },
        );
        expect(await count()).toBe(before);
      });
  });
}

describe('dump → restore, without servers', () => {
  const pg: SqlNode = {
    name: 'a',
    db: {
      engine: 'postgres',
      host: '127.0.0.1',
      port: 5432,
      database: 'a',
      user: 'u',
      passwordEnv: 'A_PW',
      connectTimeoutMs: 3000,
      statementTimeoutMs: 10_000,
    },
  };
  const my: SqlNode = { name: 'b', db: { ...pg.db, engine: 'mysql', port: 3306, database: 'b' } };

  it('puts PostgreSQL passwords in PGPASSWORD only', () => {
    const cmds = buildDumpRestore(
      pg,
      { ...pg, name: 'c', db: { ...pg.db, database: 'c' } },
      { A_PW: 's3cr3t' },
    );
    expect(cmds.dump.env.PGPASSWORD).toBe('s3cr3t');
    expect(cmds.dump.argv.slice(1)).toEqual([
      '--format=custom',
      '--no-owner',
      '--no-privileges',
      '--no-password',
      '-h',
      '127.0.0.1',
      '-p',
      '5432',
      '-U',
      'u',
      '-d',
      'a',
    ]);
    expect(cmds.restore.argv.join(' ')).not.toContain('s3cr3t');
    expect(cmds.restore.argv).not.toContain('-j');
  });

  it('refuses mixed engines, the same database twice and a password variable that is not set', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err instanceof DumpRestoreError ? err.code : String(err);
      }
      return 'no error';
    };
    expect(code(() => buildDumpRestore(pg, my, { A_PW: 'x' }))).toBe('ENGINE_MISMATCH');
    expect(code(() => buildDumpRestore(pg, { ...pg, name: 'z' }, { A_PW: 'x' }))).toBe('SAME_DATABASE');
    expect(code(() => buildDumpRestore(pg, { ...pg, name: 'c', db: { ...pg.db, database: 'c' } }, {}))).toBe(
      'MISSING_PASSWORD',
    );
  });

  it('redacts a secret even when the tail cuts through it (the tails come from hosts/redact)', () => {
    const secret = 'hunter2-long';
    const stream = `zzzzz${secret}bb${secret}${'c'.repeat(11)}`;
    const tail = (limit: number) => {
      const t = new OutputTail(limit, [secret]);
      for (const piece of [stream.slice(0, 7), stream.slice(7, 20), stream.slice(20)])
        t.push(Buffer.from(piece));
      return t.text();
    };
    expect(tail(20)).toBe('[redacted]ccccccccccc'); // the tail starts inside the second secret
    expect(tail(30)).toBe('[redacted]bb[redacted]ccccccccccc'); // inside the first, the second whole
    expect(tail(100)).toBe('zzzzz[redacted]bb[redacted]ccccccccccc');
  });
});

describeEngine('postgres');
describeEngine('mysql');
