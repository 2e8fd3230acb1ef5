import { Topology, type DbEngine } from '../../src/config/topology';
import { proposeDedicatedSlave } from '../../src/planner/dedicated-slave';
import type { NodeReport } from '../../src/probe/types';
import { renderPlanText } from '../../src/render/plan-text';
import { getRunbook, runbookNames, RUNBOOKS } from '../../src/runbook/registry';
import {
  canonicalJson,
  PlanError,
  resolvePlan,
  stepsHash,
  validateRunbook,
  type PlanErrorCode,
} from '../../src/runbook/resolve';
import { slaveFromMasterSql } from '../../src/runbook/slave-from-master-sql';
import type { Runbook, StepTemplate, TargetSpec } from '../../src/runbook/types';
import type { StatusReport } from '../../src/status/inspect';

const ENGINES: Record<string, DbEngine> = {
  mls: 'postgres',
  'rls-1': 'mysql',
  'rls-2': 'postgres',
  'rls-3': 'mysql',
  'rls-4': 'postgres',
};
const topology: Topology = Topology.parse({
  name: 'live',
  flavour: 'coremedia',
  master: 'mls',
  nodes: Object.entries(ENGINES).map(([name, engine]) => ({
    name,
    db: { engine, host: `${name}.db`, port: engine === 'postgres' ? 5432 : 3306, database: 'cm', user: 'cm' },
  })),
});

const node = (name: string, over: Partial<NodeReport> = {}): NodeReport => ({
  ...{
    name,
    role: name === 'mls' ? 'master' : 'slave',
    engine: ENGINES[name]!,
    reachable: true,
    error: null,
  },
  ...{ replicatorRemote: null, replicatorLocal: null, replicatorTag: null, replicatorIdRows: 0 },
  ...{ replicatorIdSample: [], serverType: 'live', lastChangelog: null, latencyMs: 2 },
  ...over,
});
const slave = (name: string, seq: number, idRows = 0) =>
  node(name, {
    replicatorRemote: seq,
    replicatorLocal: seq,
    replicatorTag: `tag-${seq}`,
    replicatorIdRows: idRows,
  });
const unread = (name: string, error: string, reachable = true) =>
  node(name, { reachable, error, replicatorIdRows: null, serverType: null, latencyMs: null });
const FRESH = 'system has no replicator_remote row: replication state unknown';

function status(nodes: NodeReport[], probedAt = '2026-11-21T09:00:00.000Z'): StatusReport {
  const fleet = { topology: 'live', flavour: 'coremedia', probedAt, nodes };
  return { ...fleet, ...proposeDedicatedSlave(fleet), durationMs: 40 };
}
const master = node('mls', {
  serverType: 'publication',
  lastChangelog: { sequenceno: 1050, idtag: 'tag-1050' },
});
/** dedicated rls-1; in sync rls-1, rls-2; to restore rls-3 (behind), rls-4 (inconsistent). */
const STATUS = status([
  master,
  slave('rls-1', 1042),
  slave('rls-2', 1042),
  slave('rls-3', 1030),
  slave('rls-4', 1042, 2),
]);
const ALL_IN_SYNC = status([
  master,
  slave('rls-1', 1042),
  slave('rls-2', 1042),
  slave('rls-3', 1042),
  slave('rls-4', 1042),
]);

const step = (id: string, target: TargetSpec, over: Partial<StepTemplate> = {}): StepTemplate => ({
  id,
  title: `step ${id}`,
  target,
  action: { kind: 'sql', sql: 'SELECT * FROM {{system}}', params: [] },
  risk: 'read',
  ...over,
});
const runbook = (steps: StepTemplate[], target: Runbook['target'] = 'none'): Runbook => ({
  name: 'test-book',
  flavour: 'coremedia',
  title: 'test',
  source: 'none',
  target,
  steps,
});
const readMaster = step(
  'read-master',
  { kind: 'master' },
  {
    captures: [{ name: 'sequenceno', column: 'sequenceno' }],
  },
);
const update = (id: string, target: TargetSpec, over: Partial<StepTemplate> = {}) =>
  step(id, target, {
    action: {
      kind: 'sql',
      sql: "UPDATE {{system}} SET content=? WHERE property='replicator_remote'",
      params: [{ capture: 'sequenceno', step: 'read-master', node: 'single' }],
    },
    risk: 'destructive',
    ...over,
  });
/** Every TargetSpec, stages and gates in one runbook. */
const SAMPLE = runbook([
  readMaster,
  update('set-rows', { kind: 'each-in-sync' }, { independent: true, gate: 'rows' }),
  step('restore', { kind: 'each-to-restore' }, { action: { kind: 'drop-schema' }, risk: 'destructive' }),
  step('start', { kind: 'each-slave' }, { action: { kind: 'noop' }, risk: 'write', independent: true }),
]);

/** STATUS with rls-3 replaced (rls-4 consistent). */
const with3 = (rls3: NodeReport) =>
  status([master, slave('rls-1', 1042), slave('rls-2', 1042), rls3, slave('rls-4', 1042)]);
const planFor = (target: string, s: StatusReport = STATUS) =>
  resolvePlan(slaveFromMasterSql, topology, s, target);

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
    expect(plan.basis).toEqual({
      probedAt: STATUS.probedAt,
      dedicatedSequence: 1042,
      dedicatedSlave: 'rls-1',
      inSync: ['rls-1', 'rls-2'],
      toRestore: ['rls-3', 'rls-4'],
      unknown: [],
    });
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
    moved3.nodes.find((n) => n.name === 'rls-3')!.db.host = 'elsewhere.db';
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
    const plan = planFor('rls-3', with3(unread('rls-3', FRESH)));
    expect(plan.steps).toHaveLength(6);
    expect(plan.warnings.at(-1)).toMatch(/^Target rls-3 has no replicator rows yet/);
  });

  it('allows the master for a runbook that takes any node', () => {
    const plan = resolvePlan({ ...slaveFromMasterSql, target: 'any' }, topology, STATUS, 'mls');
    expect(plan.steps[0]!.node).toBe('mls');
  });
});

describe('impossible plans', () => {
  const dirty = status([
    master,
    ...[1042, 1042, 1030, 1042].map((seq, i) => slave(`rls-${i + 1}`, seq, i + 1)),
  ]);
  const none =
    (steps: StepTemplate[], s = STATUS) =>
    () =>
      resolvePlan(runbook(steps), topology, s, null);
  const capturing = (id: string, target: TargetSpec) =>
    step(id, target, { captures: [{ name: 'sequenceno', column: 'sequenceno' }] });
  const takes = (id: string, target: TargetSpec, from: string, node: 'same' | 'single') =>
    step(id, target, {
      action: { kind: 'sql', sql: 'SELECT ?', params: [{ capture: 'sequenceno', step: from, node }] },
    });
  const restore = (from: TargetSpec['kind']) =>
    step(
      'copy',
      { kind: 'dedicated-slave' },
      { action: { kind: 'dump-restore', from: { kind: from } as TargetSpec } },
    );
  const sql = (text: string) =>
    step('x', { kind: 'master' }, { action: { kind: 'sql', sql: text, params: [] } });
  const gated = (id: string) => update(id, { kind: 'master' }, { gate: 'g' });
  const M: TargetSpec = { kind: 'master' };
  const IN_SYNC: TargetSpec = { kind: 'each-in-sync' };

  it.each<[string, () => unknown, PlanErrorCode, RegExp]>([
    [
      'no target',
      () => planFor(null as unknown as string),
      'target-required',
      /slave-from-master-sql needs --target: name a slave of live/,
    ],
    [
      'a target it does not take',
      () => resolvePlan(SAMPLE, topology, STATUS, 'rls-1'),
      'target-unexpected',
      /takes no --target \(got rls-1\)/,
    ],
    [
      'unknown node',
      () => planFor('rls-9'),
      'unknown-target',
      /^rls-9 is not a node of live \(mls, rls-1, rls-2, rls-3, rls-4\)$/,
    ],
    [
      'the master as slave',
      () => planFor('mls'),
      'bad-target',
      /^mls is the master of live; runbook slave-from-master-sql needs a slave/,
    ],
    [
      'an unreachable target',
      () => planFor('rls-3', with3(unread('rls-3', 'unreachable: connection refused', false))),
      'target-unreadable',
      /^rls-3's state could not be read \(unreachable: connection refused\)/,
    ],
    [
      'an unreadable target',
      () => planFor('rls-3', with3(unread('rls-3', 'authentication failed: Access denied'))),
      'target-unreadable',
      /\(authentication failed: Access denied\)/,
    ],
    [
      'no dedicated slave',
      none([step('d', { kind: 'dedicated-slave' })], dirty),
      'no-dedicated-slave',
      /^step d \(step d\) needs the dedicated slave, but there is none: No consistent slave/,
    ],
    [
      'a single capture from several nodes',
      none([capturing('r', IN_SYNC), takes('u', M, 'r', 'single')]),
      'ambiguous-capture',
      /^step u on mls needs sequenceno from step r, which must run on exactly one node but runs on 2 \(rls-1, rls-2\)$/,
    ],
    [
      'a same-node capture from elsewhere',
      none([capturing('r', M), takes('u', IN_SYNC, 'r', 'same')]),
      'missing-capture',
      /^step u on rls-1 needs sequenceno from step r on the same node, but r does not run on rls-1$/,
    ],
    [
      'a capture from a skipped step',
      none([capturing('r', { kind: 'each-to-restore' }), takes('u', M, 'r', 'single')], ALL_IN_SYNC),
      'missing-capture',
      /but r runs on no node in this plan/,
    ],
    [
      'a restore from several nodes',
      none([restore('each-in-sync')]),
      'ambiguous-source',
      /copies from each-in-sync, which is 2 nodes \(rls-1, rls-2\)/,
    ],
    [
      'a restore from itself',
      none([restore('dedicated-slave')]),
      'self-source',
      /^step copy would copy rls-1 onto itself$/,
    ],
    [
      'another flavour',
      () => resolvePlan(SAMPLE, { ...topology, flavour: 'tungsten' }, STATUS, null),
      'wrong-flavour',
      /^runbook test-book is for coremedia fleets; live is tungsten$/,
    ],
    [
      'a probe of another fleet',
      () => resolvePlan(SAMPLE, { ...topology, name: 'other' }, STATUS, null),
      'status-mismatch',
      /does not match topology other.*probe again/,
    ],
    [
      'a capture from a later step',
      none([takes('u', M, 'r', 'same'), capturing('r', M)]),
      'bad-runbook',
      /step u: takes sequenceno from r, which is not an earlier step/,
    ],
    [
      'params that do not match the placeholders',
      none([sql("SELECT '?', ? -- ?")]),
      'bad-runbook',
      /step x: 1 placeholders but 0 params/,
    ],
    ['a bad identifier', none([sql('SELECT * FROM {{a b}}')]), 'bad-runbook', /bad identifier \{\{a b\}\}/],
    [
      'a gate split by another step',
      none([readMaster, gated('a'), step('b', M), gated('c')]),
      'bad-runbook',
      /gate g resumes at c--mls after other steps/,
    ],
  ])('refuses %s', (_, make, code, message) => {
    let caught: unknown;
    try {
      make();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PlanError);
    expect((caught as PlanError).code).toBe(code);
    expect((caught as PlanError).message).toMatch(message);
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
