import { masterFromSlave } from '../../src/flavours/coremedia/runbooks/master-from-slave';
import { getRunbook } from '../../src/runbook/registry';
import { resolvePlan, validateRunbook } from '../../src/runbook/resolve';
import { slaveFromMaster } from '../../src/flavours/coremedia/runbooks/slave-from-master';
import { slaveFromMasterSql } from '../../src/flavours/coremedia/runbooks/slave-from-master-sql';
import type { Plan } from '../../src/runbook/types';
import { STATUS, topology } from '../helpers/plan-fixtures';

/** Template id → the nodes it expanded to, in plan order. */
const expansion = (plan: Plan) => {
  const out: Record<string, string[]> = {};
  for (const s of plan.steps) (out[s.templateId] ??= []).push(s.node);
  return out;
};
/** Consecutive runs of the same gate: one click each. */
const clicks = (plan: Plan) =>
  plan.steps.filter((s, i) => s.gate !== null && s.gate !== plan.steps[i - 1]?.gate).map((s) => s.gate);
const sqlOf = (plan: Plan, id: string) => {
  const a = plan.steps.find((s) => s.id === id)!.action;
  return a.kind === 'sql' ? a.sql : null;
};

describe('master-from-slave (seed 000)', () => {
  // STATUS: mls master; rls-1 (mysql, dedicated) and rls-2 (pg) at 1042; rls-3 (mysql) behind at 1030; rls-4 (pg) inconsistent.
  const plan = resolvePlan(masterFromSlave, topology, STATUS, null);

  it('is registered and well formed', () => {
    expect(getRunbook('master-from-slave')).toBe(masterFromSlave);
    expect(validateRunbook(masterFromSlave)).toEqual([]);
  });

  it('expands the seed steps in order onto the right nodes', () => {
    expect(expansion(plan)).toEqual({
      'stop-master': ['mls'],
      'read-slave-sequences': ['rls-1', 'rls-2', 'rls-3', 'rls-4'],
      'check-dedicated-consistent': ['rls-1'],
      'copy-key-to-master': ['mls'],
      'copy-key-to-restore': ['rls-3', 'rls-4'],
      'drop-master-schema': ['mls'],
      'restore-master': ['mls'],
      'read-master-changelog': ['mls'],
      'update-replicator-remote': ['rls-1', 'rls-2'],
      'update-replicator-local': ['rls-1', 'rls-2'],
      'update-replicator-tag': ['rls-1', 'rls-2'],
      'stop-restored-slave': ['rls-3', 'rls-4'],
      'drop-restored-schema': ['rls-3', 'rls-4'],
      'restore-slave': ['rls-3', 'rls-4'],
      'read-restored-changelog': ['rls-3', 'rls-4'],
      'set-restored-replicator-remote': ['rls-3', 'rls-4'],
      'set-restored-replicator-local': ['rls-3', 'rls-4'],
      'set-restored-replicator-tag': ['rls-3', 'rls-4'],
      'start-master': ['mls'],
      'start-restored-slave': ['rls-3', 'rls-4'],
    });
    expect(Object.keys(expansion(plan))).toEqual(masterFromSlave.steps.map((t) => t.id));
  });

  it('gates every destructive step, in five clicks', () => {
    expect(plan.steps.filter((s) => s.risk === 'destructive' && s.gate === null)).toEqual([]);
    expect(plan.steps.filter((s) => s.risk !== 'destructive' && s.gate !== null)).toEqual([]);
    expect(clicks(plan)).toEqual([
      'stop-master',
      'restore-master',
      'replicator-settings',
      'restore-slaves',
      'restored-replicator-settings',
    ]);
    const risk = Object.fromEntries(plan.steps.map((s) => [s.templateId, s.risk]));
    expect(risk).toMatchObject({
      'stop-master': 'destructive',
      'read-slave-sequences': 'read',
      'check-dedicated-consistent': 'read',
      'copy-key-to-master': 'write',
      'copy-key-to-restore': 'write',
      'restore-master': 'destructive',
      'read-restored-changelog': 'read',
      'start-master': 'write',
      'start-restored-slave': 'write',
    });
  });

  it('copies and restores from the dedicated slave; restored slaves use their own changelog', () => {
    expect(plan.steps.find((s) => s.id === 'restore-master--mls')!.action).toEqual({
      kind: 'dump-restore',
      from: 'rls-1',
    });
    expect(plan.steps.find((s) => s.id === 'copy-key-to-restore--rls-4')!.action).toEqual({
      kind: 'file-copy',
      from: 'rls-1',
      file: 'rijndael-key',
    });
    const a = plan.steps.find((s) => s.id === 'set-restored-replicator-tag--rls-3')!.action;
    expect(a.kind === 'sql' && a.params).toEqual([
      { capture: 'idtag', planStep: 'read-restored-changelog--rls-3' },
    ]);
    const b = plan.steps.find((s) => s.id === 'update-replicator-remote--rls-2')!.action;
    expect(b.kind === 'sql' && b.params).toEqual([
      { capture: 'sequenceno', planStep: 'read-master-changelog--mls' },
    ]);
    expect(plan.steps.find((s) => s.id === 'check-dedicated-consistent--rls-1')!.check).toEqual({
      kind: 'row-count',
      max: 0,
    });
  });

  it("keeps the seed's statements, quoted per engine", () => {
    expect(sqlOf(plan, 'read-slave-sequences--rls-1')).toBe(
      "SELECT * FROM `system` WHERE property='replicator_remote'",
    );
    expect(sqlOf(plan, 'read-slave-sequences--rls-2')).toBe(
      "SELECT * FROM system WHERE property='replicator_remote'",
    );
    expect(sqlOf(plan, 'check-dedicated-consistent--rls-1')).toBe('SELECT * from `ReplicatorIdTable`');
    expect(sqlOf(plan, 'read-master-changelog--mls')).toBe(
      'SELECT * FROM changelog WHERE sequenceno = (SELECT max(sequenceno) FROM changelog)',
    );
    expect(sqlOf(plan, 'update-replicator-local--rls-1')).toBe(
      "UPDATE `system` SET content=? WHERE property='replicator_local'",
    );
    expect(sqlOf(plan, 'set-restored-replicator-remote--rls-4')).toBe(
      "UPDATE system SET content=? WHERE property='replicator_remote'",
    );
  });
});

describe('slave-from-master (seed 001)', () => {
  const plan = resolvePlan(slaveFromMaster, topology, STATUS, 'rls-3');

  it('is registered and well formed', () => {
    expect(getRunbook('slave-from-master')).toBe(slaveFromMaster);
    expect(validateRunbook(slaveFromMaster)).toEqual([]);
  });

  it('stops, copies the key, restores from the master, runs slave-from-master-sql, starts', () => {
    expect(plan.steps.map((s) => s.id)).toEqual(
      [
        'stop-slave',
        'copy-key',
        'drop-schema',
        'restore',
        ...slaveFromMasterSql.steps.map((t) => t.id),
        'start-slave',
      ].map((id) => `${id}--rls-3`),
    );
    expect(slaveFromMasterSql.steps.map((t) => t.id)).toEqual([
      'read-changelog',
      'insert-replicator-remote',
      'insert-replicator-local',
      'insert-replicator-tag',
      'delete-licenses',
      'set-server-type',
    ]);
    expect(plan.steps.find((s) => s.templateId === 'restore')!.action).toEqual({
      kind: 'dump-restore',
      from: 'mls',
    });
    expect(plan.steps.find((s) => s.templateId === 'copy-key')!.action).toMatchObject({ from: 'mls' });
    expect(plan.steps.filter((s) => s.risk === 'destructive' && s.gate === null)).toEqual([]);
    expect(clicks(plan)).toEqual([
      'stop-slave',
      'restore-slave',
      'replicator-rows',
      'delete-licenses',
      'set-server-type',
    ]);
    expect(plan.steps.map((s) => s.risk)).toEqual([
      'destructive',
      'write',
      'destructive',
      'destructive',
      'read',
      'destructive',
      'destructive',
      'destructive',
      'destructive',
      'destructive',
      'write',
    ]);
  });

  it('renders the SQL for MariaDB and PostgreSQL targets', () => {
    expect(sqlOf(plan, 'insert-replicator-tag--rls-3')).toBe(
      "INSERT INTO `system` (property, content) VALUES ('replicator_tag', ?)",
    );
    expect(sqlOf(plan, 'delete-licenses--rls-3')).toBe('DELETE FROM `CmLicenses`');
    const pg = resolvePlan(slaveFromMaster, topology, STATUS, 'rls-2');
    expect(sqlOf(pg, 'set-server-type--rls-2')).toBe(
      "UPDATE system SET content='live' WHERE property='repository_server_type' AND content='publication'",
    );
    expect(pg.steps.find((s) => s.templateId === 'set-server-type')!.check).toEqual({
      kind: 'affected-rows',
      equals: 1,
    });
  });
});
