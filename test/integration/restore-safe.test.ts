import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SqlNode } from '../../src/config/topology';
import { DbRegistry, openDb } from '../../src/db/connect';
import { inStepSession } from '../../src/db/step-session';
import { stepTag, stepTagPrefix, tagComment } from '../../src/db/step-tag';
import { sqlExecutors } from '../../src/engine/executors';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { dumpRestore, type DumpRestoreOptions } from '../../src/restore/dump-restore';
import { describeHoldings } from '../../src/flavours/coremedia/holdings';
import { cancelLeftovers } from '../../src/restore/leftovers';
import { dropAndRecreateSchema } from '../../src/restore/schema';
import type { PlanStep } from '../../src/runbook/types';
import { onNode } from '../helpers/coremedia-sql';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';

type Engine = 'postgres' | 'mysql';
const CHILD = join(__dirname, '..', 'helpers', 'restore-child.ts');

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A stand-in worker process; `lines` collects its JSON lines. */
function child(args: object): { proc: ChildProcess; lines: Record<string, unknown>[] } {
  const proc = spawn(process.execPath, ['-r', 'tsx/cjs', CHILD, JSON.stringify(args)], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
      buf = buf.slice(i + 1);
    }
  });
  return { proc, lines };
}

it('a process started tied to the worker dies when the worker is SIGKILLed', async () => {
  const { proc, lines } = child({ mode: 'sleep' });
  const pid = await until('the sleep pid', () => lines.find((l) => l.sleep)?.sleep as number | undefined);
  expect(alive(pid)).toBe(true);
  proc.kill('SIGKILL');
  await until('the tied sleep to die', () => !alive(pid) || undefined, 5000);
});

function describeEngine(engine: Engine): void {
  describe(`restore safety, ${engine}`, () => {
    let fleet: Fleet;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    const q = (t: string) => (engine === 'mysql' ? `\`${t}\`` : t);
    const node = (name: string): SqlNode => fleet.config.topologies[0]!.nodes.find((n) => n.name === name)!;
    const opts = (extra: Partial<DumpRestoreOptions> = {}): DumpRestoreOptions => ({
      env,
      timeoutMs: 120_000,
      killGraceMs: 1000,
      ...extra,
    });
    const holdings = async (name: string) => {
      const db = openDb(node(name), { env });
      return describeHoldings(db).finally(() => db.close());
    };
    const state = async (name: string) => ({
      tables: (
        await onNode(
          fleet,
          name,
          engine === 'postgres'
            ? `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`
            : `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1`,
        )
      ).map((r) => String(r.t).toLowerCase()),
      resources: Number((await onNode(fleet, name, `SELECT COUNT(*) AS n FROM ${q('resources')}`))[0]!.n),
      changelog: await onNode(fleet, name, `SELECT * FROM ${q('changelog')} ORDER BY sequenceno`),
      system: await onNode(fleet, name, `SELECT * FROM ${q('system')} ORDER BY property`),
    });

    beforeAll(async () => {
      fleet = await testFleet(
        `rs-${engine === 'mysql' ? 'my' : 'pg'}`,
        [
          masterNode(engine),
          { ...slaveNode('rls1', engine, 1100, 3), changelog: { last: 1100, count: 40 } },
          slaveNode('big', engine, 1100),
          slaveNode('sink', engine, 1000),
          slaveNode('locks', engine, 1000),
        ],
        `rs${engine === 'mysql' ? 'my' : 'pg'}`,
      );
      Object.assign(env, fleet.env);
      // ~200k rows so that a restore lasts long enough to be cut off in the middle.
      await onNode(
        fleet,
        'big',
        engine === 'postgres'
          ? `INSERT INTO resources SELECT g, md5(g::text) || md5((g + 1)::text), g FROM generate_series(10, 200009) g`
          : `INSERT INTO resources SELECT seq, CONCAT(MD5(seq), MD5(seq + 1)), seq FROM seq_10_to_200009`,
      );
    }, 90_000);

    // A failed expectation must not leave a lock holder behind to block every later test.
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    });

    /** A transaction on "locks" that holds the row (and the table's metadata) until released. */
    async function holdLock(): Promise<{ release: () => void; holding: Promise<unknown> }> {
      const holder = openDb(node('locks'), { env });
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let held!: () => void;
      const holds = new Promise<void>((r) => (held = r));
      cleanups.push(
        () => holder.close(),
        async () => release(),
      );
      const holding = holder.session!({}, async (db) => {
        await db.query('BEGIN');
        await db.query('SELECT * FROM locked FOR UPDATE');
        held();
        await released;
        await db.query('COMMIT');
      });
      await holds; // the lock is taken before anything may wait for it
      return { release, holding };
    }

    afterAll(async () => {
      await fleet?.destroy();
    });

    it('describes what a node holds, an empty schema, and an unreachable node in one line each', async () => {
      expect(await holdings('rls1')).toMatch(
        /^rls1 holds \d+ tables; changelog up to 1100; replicator_remote 1100; ReplicatorIdTable 3 rows$/,
      );
      const db = openDb(node('sink'), { env });
      await dropAndRecreateSchema(node('sink'), db).finally(() => db.close());
      expect(await holdings('sink')).toBe('sink: schema is empty');
      const off = openDb({ ...node('sink'), db: { ...node('sink').db, port: 1 } }, { env });
      expect(await describeHoldings(off).finally(() => off.close())).toBe('sink: unreachable (ECONNREFUSED)');
    });

    it('a retry onto a half-restored target ends with exactly the source contents', async () => {
      await dumpRestore(node('rls1'), node('sink'), opts());
      // What a cut-off import leaves: some tables, some rows, one table missing, one that is not the source's.
      await onNode(fleet, 'sink', `DELETE FROM ${q('resources')} WHERE id > 2`);
      await onNode(fleet, 'sink', `DROP TABLE ${q('ReplicatorIdTable')}`);
      await onNode(fleet, 'sink', `CREATE TABLE leftover_extra (id INT PRIMARY KEY)`);
      expect(await holdings('sink')).toMatch(
        /^sink holds \d+ tables; changelog up to 1100; .*no ReplicatorIdTable$/,
      );
      if (engine === 'postgres') {
        // Without emptying first, the import trips over what is there: the failure this change removes.
        const plain = await dumpRestore(node('rls1'), node('sink'), opts({ clearTarget: false }));
        expect(plain.ok).toBe(false);
        expect(plain.error).toMatch(/already exists/);
      }
      const retry = await dumpRestore(
        node('rls1'),
        node('sink'),
        opts({ tag: stepTag({ runId: 'r1', stepId: 's1', attempt: 2 }) }),
      );
      expect(retry.error).toBeNull();
      expect(retry.clear).toMatchObject({ exitCode: 0 });
      expect(await state('sink')).toEqual(await state('rls1'));
      expect(await holdings('sink')).toMatch(/ReplicatorIdTable 3 rows$/);
    });

    it('a worker SIGKILLed mid-restore takes its clients along; the retry restores the source exactly', async () => {
      const tag = stepTag({ runId: 'run-kill', stepId: 'restore--sink', attempt: 1 });
      const { proc, lines } = child({
        mode: 'restore',
        source: node('big'),
        target: node('sink'),
        env: fleet.env,
        tag,
      });
      const pids = await until(
        'the pids',
        () => lines.find((l) => l.pids)?.pids as { dump: number; restore: number } | undefined,
        30_000,
      );
      await until(
        '2 MiB streamed',
        () => lines.some((l) => Number(l.bytes) >= 2 * 1024 * 1024) || undefined,
        60_000,
      );
      expect(lines.some((l) => 'done' in l)).toBe(false);
      proc.kill('SIGKILL');
      await until(
        'dump and restore to die with the worker',
        () => (!alive(pids.dump) && !alive(pids.restore)) || undefined,
        5000,
      );
      // Nothing of the step is left running on the target.
      const topology = fleet.config.topologies[0]!;
      const dbs = new DbRegistry({ env });
      try {
        const [line] = await cancelLeftovers(topology, dbs, ['sink'], stepTagPrefix({ runId: 'run-kill' }));
        expect(line).toMatch(/^sink: (no leftover statements|cancelled)/);
      } finally {
        await dbs.closeAll();
      }
      const partial = await holdings('sink');
      // PostgreSQL's restore is one transaction: nothing of it stays. MariaDB keeps what it committed.
      if (engine === 'postgres') expect(partial).toBe('sink: schema is empty');
      else expect(partial).toMatch(/^sink (holds|: schema is empty)/);
      const retry = await dumpRestore(
        node('big'),
        node('sink'),
        opts({ tag: stepTag({ runId: 'run-kill', stepId: 'restore--sink', attempt: 2 }) }),
      );
      expect(retry.error).toBeNull();
      expect(await state('sink')).toEqual(await state('big'));
    }, 120_000);

    it('tags the SQL executor session, bounds its lock waits and gives the pool back clean', async () => {
      const tag = stepTag({ runId: 'run-sql', stepId: 'read--locks', attempt: 1 });
      const sql =
        engine === 'postgres'
          ? `SELECT current_setting('application_name') AS app, current_setting('lock_timeout') AS lt`
          : `SELECT INFO AS app, @@SESSION.lock_wait_timeout AS lt, @@SESSION.innodb_lock_wait_timeout AS ilt FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()`;
      const step: PlanStep = {
        id: 'read--locks',
        templateId: 'read',
        title: 'read',
        node: 'locks',
        engine,
        risk: 'read',
        action: { kind: 'sql', sql, params: [] },
        captures: [],
        check: null,
        stage: 0,
        gate: null,
      };
      const db = openDb(node('locks'), { env });
      try {
        const ctx = { topology: fleet.config.topologies[0]!, db: () => db, captured: () => undefined, tag };
        const r = await sqlExecutors().sql!(step, ctx);
        expect(r.error).toBeNull();
        if (engine === 'postgres') expect(r.rows[0]).toEqual({ app: tag, lt: '2min' });
        else {
          expect(String(r.rows[0]!.app)).toMatch(
            new RegExp(`^${tagComment(tag).replace(/[*/]/g, '\\$&')} SELECT`),
          );
          expect(Number(r.rows[0]!.lt)).toBe(120);
          expect(Number(r.rows[0]!.ilt)).toBe(120);
        }
        const after =
          engine === 'postgres'
            ? `SELECT current_setting('application_name') AS app, current_setting('lock_timeout') AS lt`
            : `SELECT @@SESSION.lock_wait_timeout AS lt`;
        const back = (await db.query(after)).rows[0]!;
        if (engine === 'postgres') expect(back).toEqual({ app: 'recover', lt: '0' });
        else expect(Number(back.lt)).toBeGreaterThan(120);
      } finally {
        await db.close();
      }
    });

    describe.each([
      [
        'DROP TABLE locked',
        async () => (await onNode(fleet, 'locks', `SELECT COUNT(*) AS n FROM locked`)).length,
      ],
      [
        'UPDATE locked SET v = 2',
        async () => Number((await onNode(fleet, 'locks', `SELECT v FROM locked`))[0]!.v),
      ],
    ])('a tagged "%s" waiting on a lock from a killed client', (statement, effect) => {
      it('keeps waiting on the server, is cancelled by cancelLeftovers and never takes effect', async () => {
        await onNode(fleet, 'locks', 'DROP TABLE IF EXISTS locked');
        await onNode(fleet, 'locks', 'CREATE TABLE locked (id INT PRIMARY KEY, v INT)');
        await onNode(fleet, 'locks', 'INSERT INTO locked VALUES (1, 1)');
        const before = await effect();
        const tag = stepTag({
          runId: `run-${statement.slice(0, 4).toLowerCase()}`,
          stepId: 'step--locks',
          attempt: 1,
        });
        const { release, holding } = await holdLock();
        const n = node('locks').db;
        const client =
          engine === 'postgres'
            ? spawn(
                'psql',
                ['-X', '-h', n.host, '-p', String(n.port), '-U', n.user, '-d', n.database, '-c', statement],
                {
                  env: { PATH: process.env.PATH ?? '', PGAPPNAME: tag },
                  stdio: 'ignore',
                },
              )
            : spawn(
                'mariadb',
                [
                  '--comments',
                  '--protocol=TCP',
                  '-h',
                  n.host,
                  '-P',
                  String(n.port),
                  '-u',
                  n.user,
                  n.database,
                  '-e',
                  `${tagComment(tag)} ${statement}`,
                ],
                {
                  env: {
                    PATH: process.env.PATH ?? '',
                    ...(n.passwordEnv ? { MYSQL_PWD: env[n.passwordEnv] ?? '' } : {}),
                  },
                  stdio: 'ignore',
                },
              );
        const waiting =
          engine === 'postgres'
            ? `SELECT pid FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock'`
            : `SELECT ID FROM information_schema.PROCESSLIST WHERE LOCATE(?, INFO) = 1`;
        const key = engine === 'postgres' ? tag : tagComment(tag);
        await until(
          'the statement to wait',
          async () => (await onNode(fleet, 'locks', waiting, [key])).length > 0 || undefined,
        );
        client.kill('SIGKILL'); // the worker's client is gone; its statement is not
        await new Promise((r) => setTimeout(r, 300));
        // MariaDB notices a gone client while waiting for a metadata lock (within a few seconds), not
        // while waiting for a row lock; PostgreSQL notices neither (before 14's connection check).
        const left = await onNode(fleet, 'locks', waiting, [key]);
        const lingers = left.length === 1;
        if (!(engine === 'mysql' && statement.startsWith('DROP'))) expect(left).toHaveLength(1);

        const dbs = new DbRegistry({ env });
        try {
          const lines = await cancelLeftovers(
            fleet.config.topologies[0]!,
            dbs,
            ['locks'],
            stepTagPrefix({ runId: tag.split('/')[1]! }),
          );
          expect(lines).toEqual([
            lingers ? `locks: cancelled 1 statement (${statement})` : 'locks: no leftover statements',
          ]);
          expect(await cancelLeftovers(fleet.config.topologies[0]!, dbs, ['locks'], tag)).toEqual([
            'locks: no leftover statements',
          ]);
        } finally {
          await dbs.closeAll();
        }
        release();
        await holding;
        await new Promise((r) => setTimeout(r, 300));
        expect(await effect()).toBe(before);
      });
    });

    it('an abandoned in-process step session is cancelled too', async () => {
      await onNode(fleet, 'locks', 'DROP TABLE IF EXISTS locked');
      await onNode(fleet, 'locks', 'CREATE TABLE locked (id INT PRIMARY KEY, v INT)');
      await onNode(fleet, 'locks', 'INSERT INTO locked VALUES (1, 1)');
      const tag = stepTag({ runId: 'run-inproc', stepId: 'update--locks', attempt: 3 });
      const worker = openDb(node('locks'), { env });
      cleanups.push(() => worker.close());
      const { release, holding } = await holdLock();
      const abandoned = inStepSession(worker, tag, (db) => db.query('UPDATE locked SET v = 3'));
      abandoned.catch(() => undefined);
      // Cancel once the UPDATE itself waits (not while the session is still being set up).
      const waiting =
        engine === 'postgres'
          ? `SELECT pid FROM pg_stat_activity WHERE query LIKE 'UPDATE locked%' AND wait_event_type = 'Lock'`
          : `SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '/* recover/run-inproc/%UPDATE locked%'`;
      await until(
        'the update to wait',
        async () => (await onNode(fleet, 'locks', waiting)).length > 0 || undefined,
      );
      const dbs = new DbRegistry({ env });
      try {
        const prefix = stepTagPrefix({ runId: 'run-inproc', stepId: 'update--locks' });
        const lines = await until('the cancel', async () => {
          const l = await cancelLeftovers(fleet.config.topologies[0]!, dbs, ['locks'], prefix);
          return l[0]!.includes('cancelled') ? l : undefined;
        });
        expect(lines).toEqual(['locks: cancelled 1 statement (UPDATE locked SET v = 3)']);
      } finally {
        await dbs.closeAll();
      }
      await expect(abandoned).rejects.toThrow();
      release();
      await holding;
      await worker.close();
      expect(Number((await onNode(fleet, 'locks', 'SELECT v FROM locked'))[0]!.v)).toBe(1);
    });
  });
}

describeEngine('postgres');
describeEngine('mysql');
