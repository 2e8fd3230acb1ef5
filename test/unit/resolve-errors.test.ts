import { PlanError, resolvePlan, type PlanErrorCode } from '../../src/runbook/resolve';
import type { StepTemplate, TargetSpec } from '../../src/runbook/types';
import {
  topology,
  slave,
  unread,
  status,
  master,
  STATUS,
  ALL_IN_SYNC,
  step,
  runbook,
  readMaster,
  update,
  SAMPLE,
  with3,
  planFor,
} from '../helpers/plan-fixtures';

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
