import { renderPlanText } from '../../src/render/plan-text';
import { getRunbook, runbookNames, RUNBOOKS } from '../../src/runbook/registry';
import { canonicalJson, resolvePlan, stepsHash, validateRunbook } from '../../src/runbook/resolve';
import { slaveFromMasterSql } from '../../src/flavours/coremedia/runbooks/slave-from-master-sql';
import type { Plan, TargetSpec } from '../../src/runbook/types';
import type { CoremediaFacts } from '../../src/flavours/coremedia/basis';

const facts = (plan: Plan) => plan.basis.facts as unknown as CoremediaFacts;
import {
  ENGINES,
  topology,
  slave,
  freshlyRestored,
  status,
  master,
  STATUS,
  ALL_IN_SYNC,
  step,
  runbook,
  SAMPLE,
  with3,
  planFor,
} from '../helpers/plan-fixtures';

describe('target expansion', () => {
  it.each<[TargetSpec['kind'], string | null, string[]]>([
    ['master', null, ['mls']],
    ['target', 'rls-3', ['rls-3']],
    ['dedicated-slave', null, ['rls-1']],
    ['each-in-sync', null, ['rls-1', 'rls-2']],
    ['each-to-restore', null, ['rls-3', 'rls-4']],
    ['each-slave', null, ['rls-1', 'rls-2', 'rls-3', 'rls-4']],
  ])('%s → %j', (kind, target, nodes) => {
    const book = runbook(
      [step('s', { kind } as TargetSpec, { independent: true })],
      target ? 'slave' : 'none',
    );
    const plan = resolvePlan(book, topology, STATUS, target);
    expect(plan.steps.map((s) => [s.id, s.node, s.engine])).toEqual(
      nodes.map((n) => [`s--${n}`, n, ENGINES[n]]),
    );
  });

  it('leaves out a template with no nodes, says why, and keeps stages contiguous', () => {
    const plan = resolvePlan(SAMPLE, topology, ALL_IN_SYNC, null);
    expect(plan.steps.some((s) => s.templateId === 'restore')).toBe(false);
    expect(plan.warnings).toContain('No slave to restore: step restore (step restore) skipped');
    expect([...new Set(plan.steps.map((s) => s.stage))]).toEqual([1, 2, 3]);
  });

  it("carries the planner's warnings and the basis of the probe", () => {
    const plan = resolvePlan(SAMPLE, topology, STATUS, null);
    expect(plan.warnings).toEqual(STATUS.warnings.map((w) => w.message));
    expect(plan.basis).toMatchObject({
      flavour: 'coremedia',
      probedAt: STATUS.probedAt,
      unknown: [],
      summary:
        'dedicated sequence 1042, dedicated slave rls-1; in sync: rls-1, rls-2; to restore: rls-3, rls-4; unknown: —',
      followUp: null,
    });
    expect(facts(plan)).toEqual({
      dedicatedSequence: 1042,
      dedicatedSlave: 'rls-1',
      inSync: ['rls-1', 'rls-2'],
      toRestore: ['rls-3', 'rls-4'],
      replay: null, // this runbook does not report replays; master-from-slave does
      slaves: STATUS.nodes
        .filter((n) => n.role === 'slave')
        .map((n) => ({
          name: n.name,
          known: true,
          replicatorRemote: n.replicatorRemote,
          replicatorIdRows: n.replicatorIdRows,
        })),
    });
    expect(facts(plan).slaves.map((s) => [s.name, s.replicatorRemote])).toEqual([
      ['rls-1', 1042],
      ['rls-2', 1042],
      ['rls-3', 1030],
      ['rls-4', 1042],
    ]);
  });
});

describe('SQL and values', () => {
  it.each<[string, string, string]>([
    ['rls-3', 'mysql', "INSERT INTO `system` (property, content) VALUES ('replicator_remote', ?)"],
    ['rls-2', 'postgres', "INSERT INTO system (property, content) VALUES ('replicator_remote', ?)"],
  ])('quotes identifiers for %s (%s)', (target, engine, insert) => {
    const plan = planFor(target);
    const [read, remote] = plan.steps;
    const q = engine === 'mysql' ? '`changelog`' : 'changelog';
    expect(read!.action).toEqual({
      kind: 'sql',
      sql: `SELECT * FROM ${q} WHERE sequenceno = (SELECT max(sequenceno) FROM ${q})`,
      params: [],
    });
    expect(remote!.action).toMatchObject({ kind: 'sql', sql: insert });
    expect(plan.steps.at(-1)!.action).toMatchObject({
      sql: `UPDATE ${engine === 'mysql' ? '`system`' : 'system'} SET content='live' WHERE property='repository_server_type' AND content='publication'`,
    });
  });

  it('points same-node captures at that node’s step', () => {
    const plan = planFor('rls-3');
    expect(plan.steps.map((s) => [s.id, s.action.kind === 'sql' ? s.action.params : null])).toEqual([
      ['read-changelog--rls-3', []],
      ['insert-replicator-remote--rls-3', [{ capture: 'sequenceno', planStep: 'read-changelog--rls-3' }]],
      ['insert-replicator-local--rls-3', [{ capture: 'sequenceno', planStep: 'read-changelog--rls-3' }]],
      ['insert-replicator-tag--rls-3', [{ capture: 'idtag', planStep: 'read-changelog--rls-3' }]],
      ['delete-licenses--rls-3', []],
      ['set-server-type--rls-3', []],
    ]);
  });

  it('points single captures at the one step every node shares', () => {
    const plan = resolvePlan(SAMPLE, topology, STATUS, null);
    const rows = plan.steps.filter((s) => s.templateId === 'set-rows');
    expect(rows.map((s) => (s.action.kind === 'sql' ? s.action.params : null))).toEqual([
      [{ capture: 'sequenceno', planStep: 'read-master--mls' }],
      [{ capture: 'sequenceno', planStep: 'read-master--mls' }],
    ]);
  });
});

describe('stages and gates', () => {
  it('one stage per template, one per node when not independent; gates only on destructive steps', () => {
    const plan = resolvePlan(SAMPLE, topology, STATUS, null);
    expect(plan.steps.map((s) => [s.id, s.stage, s.gate])).toEqual([
      ['read-master--mls', 1, null],
      ['set-rows--rls-1', 2, 'rows'],
      ['set-rows--rls-2', 2, 'rows'],
      ['restore--rls-3', 3, 'restore'],
      ['restore--rls-4', 4, 'restore'],
      ['start--rls-1', 5, null],
      ['start--rls-2', 5, null],
      ['start--rls-3', 5, null],
      ['start--rls-4', 5, null],
    ]);
  });

  it('slave-from-master-sql: three inserts under one gate, then one gate each', () => {
    expect(planFor('rls-3').steps.map((s) => [s.stage, s.risk, s.gate])).toEqual([
      [1, 'read', null],
      [2, 'destructive', 'replicator-rows'],
      [3, 'destructive', 'replicator-rows'],
      [4, 'destructive', 'replicator-rows'],
      [5, 'destructive', 'delete-licenses'],
      [6, 'destructive', 'set-server-type'],
    ]);
  });
});

/** The same value with every object's keys in reverse order. */
function reversed<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversed) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversed(v)]),
  ) as T;
}

describe('plan hash', () => {
  const base = planFor('rls-3').hash;

  it('is a sha256 hex, stable across calls and key order, blind to probe time', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(planFor('rls-3').hash).toBe(base);
    expect(
      resolvePlan(reversed(slaveFromMasterSql), reversed(topology), reversed(STATUS), 'rls-3').hash,
    ).toBe(base);
    const later = { ...STATUS, probedAt: '2026-11-21T10:30:00.000Z', durationMs: 999 };
    expect(planFor('rls-3', later).hash).toBe(base);
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 3 } })).toBe(
      '{"a":{"c":3,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });

  it('changes with the SQL, the node, the params and where the node is', () => {
    const sql = structuredClone(slaveFromMasterSql);
    sql.steps[4]!.action = { kind: 'sql', sql: 'DELETE FROM {{CmLicenses}} WHERE id > 0', params: [] };
    expect(resolvePlan(sql, topology, STATUS, 'rls-3').hash).not.toBe(base);

    expect(planFor('rls-1').hash).not.toBe(base);
    const sample = resolvePlan(SAMPLE, topology, STATUS, null).hash;
    // rls-1 turns inconsistent: the dedicated-slave and in-sync steps move to other nodes.
    const moved = status([
      master,
      slave('rls-1', 1042, 1),
      slave('rls-2', 1042),
      slave('rls-3', 1042),
      slave('rls-4', 1042),
    ]);
    expect(resolvePlan(SAMPLE, topology, moved, null).hash).not.toBe(sample);

    const params = structuredClone(SAMPLE);
    params.steps[1]!.action = {
      kind: 'sql',
      sql: 'UPDATE {{system}} SET content=?',
      params: [{ literal: '1' }],
    };
    const other = structuredClone(params);
    other.steps[1]!.action = {
      kind: 'sql',
      sql: 'UPDATE {{system}} SET content=?',
      params: [{ literal: '2' }],
    };
    expect(resolvePlan(params, topology, STATUS, null).hash).not.toBe(
      resolvePlan(other, topology, STATUS, null).hash,
    );

    const moved3 = structuredClone(topology);
    moved3.nodes.find((n) => n.name === 'rls-3')!.db!.host = 'elsewhere.db';
    expect(resolvePlan(slaveFromMasterSql, moved3, STATUS, 'rls-3').hash).not.toBe(base);
  });

  it('stepsHash compares the remaining steps', () => {
    const a = planFor('rls-3').steps;
    expect(stepsHash(a.slice(2))).toBe(stepsHash(reversed(planFor('rls-3').steps).slice(2)));
    const changed = structuredClone(a);
    changed[3]!.action = { kind: 'sql', sql: 'INSERT INTO `system` VALUES (?)', params: [{ literal: 'x' }] };
    expect(stepsHash(changed.slice(2))).not.toBe(stepsHash(a.slice(2)));
  });
});

describe('target validation', () => {
  it('accepts a freshly restored slave (no replicator rows yet) and says so', () => {
    const plan = planFor('rls-3', with3(freshlyRestored('rls-3')));
    expect(plan.steps).toHaveLength(6);
    expect(plan.warnings.at(-1)).toMatch(/^Target rls-3 has no replicator rows yet/);
  });

  it('allows the master for a runbook that takes any node', () => {
    const plan = resolvePlan({ ...slaveFromMasterSql, target: 'any' }, topology, STATUS, 'mls');
    expect(plan.steps[0]!.node).toBe('mls');
  });
});

describe('registry and dry-run text', () => {
  it('finds built-in runbooks by name only, and every one is well formed', () => {
    expect(getRunbook('slave-from-master-sql')).toBe(slaveFromMasterSql);
    expect(getRunbook('constructor')).toBeUndefined();
    expect(getRunbook('nope')).toBeUndefined();
    expect(runbookNames()).toContain('slave-from-master-sql');
    for (const book of Object.values(RUNBOOKS))
      expect([book.name, validateRunbook(book)]).toEqual([book.name, []]);
  });

  it('shows every step with its SQL, parameters, risk, gate and check', () => {
    const plan = planFor('rls-3');
    const text = renderPlanText(plan);
    expect(text).toContain(`Plan slave-from-master-sql on live, target rls-3 (dry run: nothing executed)`);
    expect(text).toContain(`Hash ${plan.hash.slice(0, 12)}; probed ${STATUS.probedAt}`);
    expect(text).toContain(
      '  insert-replicator-remote--rls-3  on rls-3 (mysql)  DESTRUCTIVE, gate replicator-rows',
    );
    expect(text).toContain(
      "    INSERT INTO `system` (property, content) VALUES ('replicator_remote', ?)\n      $1 = sequenceno from read-changelog--rls-3",
    );
    expect(text).toContain('    check: exactly 1 row affected');
    expect(text).toContain('    captures: sequenceno, idtag');
    expect(text).toContain(
      'Approvals needed: 3 (replicator-rows: 3 steps, delete-licenses, set-server-type)',
    );
    expect(text).toContain('Warnings:\n  ! Master mls is ahead: last changelog 1050 > dedicated 1042');
  });
});
