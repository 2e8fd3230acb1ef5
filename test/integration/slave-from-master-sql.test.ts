import type { DbEngine } from '../../src/config/topology';
import { DbRegistry } from '../../src/db/connect';
import { ident } from '../../src/db/dialect';
import type { Db } from '../../src/db/types';
import { setReplicator } from '../../src/flavours/coremedia/fleet/fleet';
import { resolvePlan } from '../../src/runbook/resolve';
import { slaveFromMasterSql } from '../../src/flavours/coremedia/runbooks/slave-from-master-sql';
import { executeNoop, executeSqlAction, executeWaitAction } from '../../src/runbook/sql-executor';
import type { Plan, PlanStep, ResolvedAction, StepResult } from '../../src/runbook/types';
import { inspectTopology } from '../../src/status/inspect';
import { useFleet } from '../helpers/fleet';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

const REPLICATOR = ['replicator_remote', 'replicator_local', 'replicator_tag'];

afterAll(() => expectNoLeakedHandles());

describe.each<DbEngine>(['postgres', 'mysql'])('slave-from-master-sql on %s', (engine) => {
  const fleet = useFleet(__filename, {
    name: 'sfm',
    master: 'mls',
    nodes: [
      { name: 'mls', engine, changelog: { last: 1050, count: 5, idtag: 'mls-1050' } },
      { name: 'rls-1', engine, replicator: { remote: 1042 }, changelog: { last: 1042, count: 5 } },
      { name: 'rls-2', engine, replicator: { remote: 1042 }, changelog: { last: 1042, count: 5 } },
      // rls-3's database holds the master's backup; the fixture's old replicator rows go in makeFresh.
      {
        name: 'rls-3',
        engine,
        replicator: { remote: 1030 },
        changelog: { last: 1050, count: 5, idtag: 'mls-1050' },
      },
    ],
  });
  let registry: DbRegistry;
  beforeAll(() => {
    registry = new DbRegistry({ env: fleet().env });
  });
  afterAll(() => registry.closeAll());

  const topology = () => fleet().config.topologies[0]!;
  const db = (node: string): Db =>
    registry.get(
      topology().nodes.find((n) => n.name === node)!,
      topology().name,
    );
  const system = ident(engine, 'system');
  const licenses = ident(engine, 'CmLicenses');

  /** What a restore from the master's backup leaves: no replicator rows, the master's server type and licenses. */
  async function makeFresh(serverType: 'publication' | 'live'): Promise<void> {
    const rls3 = db('rls-3');
    await rls3.query(`DELETE FROM ${system} WHERE property IN (?, ?, ?)`, REPLICATOR);
    await rls3.query(`UPDATE ${system} SET content = ? WHERE property = 'repository_server_type'`, [
      serverType,
    ]);
    await rls3.query(`DELETE FROM ${licenses}`);
    await rls3.query(`INSERT INTO ${licenses} (id, license) VALUES (1, ?), (2, ?)`, [
      'CM-LIVE-1',
      'CM-STUDIO-25',
    ]);
  }

  async function plan(): Promise<Plan> {
    return resolvePlan(slaveFromMasterSql, topology(), await inspectTopology(topology(), registry), 'rls-3');
  }

  /** The engine's job in miniature: steps in order, captures from earlier results, stop at the first failure. */
  async function run(p: Plan): Promise<Map<string, StepResult>> {
    const results = new Map<string, StepResult>();
    const captured = (id: string, name: string) => results.get(id)?.captured[name];
    for (const step of p.steps) {
      const result = await executeSqlAction(db(step.node), step, captured);
      results.set(step.id, result);
      if (!result.ok) break;
    }
    return results;
  }

  async function systemRows(): Promise<Record<string, string>> {
    const { rows } = await db('rls-3').query(`SELECT property, content FROM ${system}`);
    return Object.fromEntries(rows.map((r) => [String(r.property), String(r.content)]));
  }

  it('sets the replicator rows from the last changelog entry, clears licenses, sets the server type', async () => {
    await makeFresh('publication');
    const p = await plan();
    expect(p.steps.map((s) => s.id)).toEqual([
      'read-changelog--rls-3',
      'insert-replicator-remote--rls-3',
      'insert-replicator-local--rls-3',
      'insert-replicator-tag--rls-3',
      'delete-licenses--rls-3',
      'set-server-type--rls-3',
    ]);
    expect(p.warnings).toContainEqual(expect.stringMatching(/^Target rls-3 has no replicator rows yet/));

    const results = await run(p);
    expect([...results.values()].map((r) => [r.ok, r.error])).toEqual(Array(6).fill([true, null]));
    const read = results.get('read-changelog--rls-3')!;
    expect(read).toMatchObject({
      rowCount: 1,
      affectedRows: null,
      captured: { sequenceno: '1050', idtag: 'mls-1050' },
    });
    for (const id of ['remote', 'local', 'tag'])
      expect(results.get(`insert-replicator-${id}--rls-3`)!.affectedRows).toBe(1);
    expect(results.get('delete-licenses--rls-3')!.affectedRows).toBe(2);
    expect(results.get('set-server-type--rls-3')!.affectedRows).toBe(1);

    const changelog = ident(engine, 'changelog');
    const { rows } = await db('rls-3').query(
      `SELECT sequenceno, idtag FROM ${changelog} ORDER BY sequenceno DESC LIMIT 1`,
    );
    const last = { sequenceno: String(rows[0]!.sequenceno), idtag: String(rows[0]!.idtag) };
    expect(await systemRows()).toEqual({
      replicator_remote: last.sequenceno,
      replicator_local: last.sequenceno,
      replicator_tag: last.idtag,
      repository_server_type: 'live',
    });
    const count = await db('rls-3').query(`SELECT COUNT(*) AS n FROM ${licenses}`);
    expect(Number(count.rows[0]!.n)).toBe(0);
    // The probe now reads rls-3 like any other slave.
    const after = await inspectTopology(topology(), registry);
    expect(after.nodes.find((n) => n.name === 'rls-3')).toMatchObject({
      error: null,
      replicatorRemote: 1050,
    });
  });

  it('fails the last step when the server type is already live', async () => {
    await makeFresh('live');
    const results = await run(await plan());
    expect([...results.values()].map((r) => r.ok)).toEqual([true, true, true, true, true, false]);
    expect(results.get('set-server-type--rls-3')).toMatchObject({
      ok: false,
      affectedRows: 0,
      error: 'expected exactly 1 row updated, got 0',
    });
  });

  it('executes nothing when a capture is missing', async () => {
    await makeFresh('publication');
    const insert = (await plan()).steps[1]!;
    const real = db('rls-3');
    let queries = 0;
    const counting: Db = {
      ...real,
      query: (sql, params) => {
        queries++;
        return real.query(sql, params);
      },
    };
    const result = await executeSqlAction(counting, insert, () => undefined);
    expect(result).toMatchObject({ ok: false, rowCount: 0, affectedRows: null });
    expect(result.error).toBe(
      'no value captured for sequenceno from read-changelog--rls-3 (has that step run?); nothing was executed',
    );
    expect(queries).toBe(0);
    expect(Object.keys(await systemRows())).toEqual(['repository_server_type']);
  });

  it('reports a database error as a failed step, not an exception', async () => {
    await makeFresh('publication');
    const p = await plan();
    await setReplicator(fleet(), 'rls-3', { remote: 1030 }); // not so fresh after all
    const results = await run(p);
    const insert = results.get('insert-replicator-remote--rls-3')!;
    expect(insert.ok).toBe(false);
    expect(insert.error).toMatch(/duplicate/i);
    expect(results.size).toBe(2);
  });

  const adHoc = (action: ResolvedAction, over: Partial<PlanStep> = {}): PlanStep => ({
    ...{ id: 'adhoc--rls-3', templateId: 'adhoc', title: 'ad hoc', node: 'rls-3', engine, risk: 'read' },
    ...{ action, captures: [], check: null, stage: 1, gate: null },
    ...over,
  });
  const serverTypeIs = (type: string) =>
    `SELECT content FROM ${system} WHERE property='repository_server_type' AND content='${type}'`;

  it('waits until a condition holds, and gives up with the reason after its timeout', async () => {
    await makeFresh('publication');
    const until = { kind: 'row-count', min: 1 } as const;
    const waiting = executeWaitAction(
      db('rls-3'),
      adHoc({ kind: 'wait', sql: serverTypeIs('live'), params: [], until, intervalMs: 20, timeoutMs: 5000 }),
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await db('rls-3').query(`UPDATE ${system} SET content='live' WHERE property='repository_server_type'`);
    expect(await waiting).toMatchObject({ ok: true, rowCount: 1, rows: [{ content: 'live' }] });

    const never = adHoc({
      kind: 'wait',
      sql: serverTypeIs('x'),
      params: [],
      until,
      intervalMs: 20,
      timeoutMs: 100,
    });
    const gaveUp = await executeWaitAction(db('rls-3'), never, () => undefined);
    expect(gaveUp.ok).toBe(false);
    expect(gaveUp.error).toMatch(
      /^still not satisfied after 100 ms \(\d+ polls\): expected at least 1 row, got 0$/,
    );
    expect(await executeNoop(adHoc({ kind: 'noop', sleepMs: 5 }))).toMatchObject({ ok: true, error: null });
  });

  it('fails a capture whose column is not in the result', async () => {
    const step = adHoc(
      { kind: 'sql', sql: `SELECT property, content FROM ${system}`, params: [] },
      { captures: [{ name: 'seq', column: 'sequenceno' }] },
    );
    const result = await executeSqlAction(db('rls-3'), step, () => undefined);
    expect(result.ok).toBe(false);
    expect(result.error).toBe(
      'column sequenceno (for seq) is not in the result (columns: property, content)',
    );
  });
});
