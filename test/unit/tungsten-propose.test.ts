import { RecoverConfig, type Topology } from '../../src/config/topology';
import { tungstenDrift } from '../../src/flavours/tungsten/basis';
import { proposeRestore } from '../../src/flavours/tungsten/propose';
import { tungsten } from '../../src/flavours/tungsten';
import { PlanError, resolvePlan } from '../../src/runbook/resolve';
import { tungstenExternalRestore } from '../../src/flavours/tungsten/runbooks/external-restore';
import { evaluateTungsten } from '../../src/flavours/tungsten/monitor';
import { emptyMemory } from '../../src/monitor/types';
import { blocksAsText } from '../helpers/blocks-text';
import { ds, healthy, known, node, report, settings } from '../helpers/tungsten-status';

describe('tungsten proposal: who may be restored from an external backup', () => {
  it('a healthy cluster: every replica, with a verdict per node', () => {
    const p = proposeRestore({ nodes: healthy(), cluster: known, settings });
    expect(p.primary).toBe('host1');
    expect(p.restorable).toEqual(['host2', 'host3']);
    expect(p.refusals).toEqual([]);
    expect(p.verdicts).toEqual({
      host1: 'primary: replicator ONLINE, THL seqno 0..120, epoch 7',
      host2: 'replica: ONLINE, replicator ONLINE, applied seqno 110 (10 behind the primary), latency 0.4s',
      host3: 'replica: ONLINE, replicator ONLINE, applied seqno 110 (10 behind the primary), latency 0.4s',
    });
  });

  it.each([
    [
      'the manager is unreachable: the cluster view is unknown, never ok',
      () => ({
        nodes: healthy().map((n) => ({ ...n, cluster: null })),
        cluster: { known: false, error: 'cctrl ls: host1: exit 1: Unable to connect', coordinator: null },
      }),
      [{ code: 'cluster-unknown', node: null }],
    ],
    [
      'no primary answers',
      () => ({ nodes: [node('host2', 'replica')], cluster: known }),
      [{ code: 'no-primary', node: null }],
    ],
    [
      'thl of the primary cannot look up an event (5.x)',
      () => ({
        nodes: [
          node('host1', 'primary', { abilities: { thlListEvent: false, dsctlReset: true } }),
          node('host2', 'replica'),
        ],
        cluster: known,
      }),
      [{ code: 'cli-too-old', node: null }],
    ],
    [
      'dsctl of the replica has no -reset',
      () => ({
        nodes: [
          node('host1', 'primary'),
          node('host2', 'replica', { abilities: { thlListEvent: true, dsctlReset: false } }),
        ],
        cluster: known,
      }),
      [{ code: 'cli-too-old', node: 'host2' }],
    ],
    [
      'a SUSPECT replicator is unknown',
      () => ({
        nodes: [
          node('host1', 'primary'),
          node('host2', 'replica', {
            cluster: ds('host2', 'replica', {
              replicator: { role: 'slave', master: 'host1', state: 'SUSPECT' },
            }),
          }),
        ],
        cluster: known,
      }),
      [],
    ],
    [
      'progress=-1 is unknown',
      () => ({
        nodes: [
          node('host1', 'primary'),
          node('host2', 'replica', { cluster: ds('host2', 'replica', { progress: null }) }),
        ],
        cluster: known,
      }),
      [],
    ],
    [
      'an unreachable node',
      () => ({
        nodes: [
          node('host1', 'primary'),
          node('host2', 'unknown' as 'replica', { reachable: false, error: 'trepctl: connect ECONNREFUSED' }),
        ],
        cluster: known,
      }),
      [{ code: 'node-unknown', node: 'host2' }],
    ],
  ])('%s', (_, input, refusals) => {
    const p = proposeRestore({ ...input(), settings });
    expect(p.refusals).toMatchObject(refusals);
    if (refusals.length > 0) expect(p.restorable).toEqual([]);
    // Unknown is unknown, but a replica in trouble is what a restore is for: it stays restorable.
    else
      expect(p.verdicts.host2).toMatch(
        /^unknown: the manager lists it with (REPLICATOR state=SUSPECT|progress=-1)/,
      );
  });
});

const topology: Topology = RecoverConfig.parse({
  topologies: [
    {
      name: 'tc',
      flavour: 'tungsten',
      tungsten: { service: 'alpha' },
      access: { approvers: ['bob'] },
      nodes: ['host1', 'host2', 'host3'].map((name, i) => ({
        name,
        db: { engine: 'mysql', host: '127.0.0.1', port: 3306, database: `app${i}`, user: 'root' },
        host: { transport: 'local' },
        tungsten: {
          binDir: `/opt/${name}/bin`,
          ...(name === 'host2'
            ? { backup: { kind: 'dump', path: '/backups/host2.sql', from: 'primary' } }
            : {}),
        },
      })),
    },
  ],
}).topologies[0]!;

describe('tungsten-external-restore plan', () => {
  it('pins run-time captures to concrete steps; reads of the primary run on the primary', () => {
    const plan = resolvePlan(tungstenExternalRestore, topology, report(), 'host2');
    const step = (id: string) => plan.steps.find((s) => s.templateId === id)!;
    expect(plan.steps.map((s) => s.id)).toContain('find-event--host1');
    expect(step('find-event').action).toMatchObject({
      argv: [
        'sh',
        '-c',
        expect.any(String),
        'find-event',
        '/opt/host1/bin',
        'alpha',
        '${capture:compare--host2.lookupEvent}',
      ],
    });
    expect(step('dsctl-reset')).toMatchObject({
      gate: 'dsctl-reset',
      when: { planStep: 'reset-values--host1', capture: 'decision', equals: 'reset' },
      action: {
        argv: [
          '/opt/host2/bin/dsctl',
          '-service',
          'alpha',
          'set',
          '-reset',
          '-seqno',
          '${capture:reset-values--host1.seqno}',
          '-epoch',
          '${capture:reset-values--host1.epoch}',
          '-source-id',
          '${capture:reset-values--host1.sourceId}',
          '-event-id',
          '${capture:reset-values--host1.eventId}',
        ],
      },
    });
    expect(step('reset-values').action).toMatchObject({ kind: 'rule', args: { primarySourceId: 'host1' } });
    expect(step('shun').action).toMatchObject({ stdin: 'datasource host2 shun\nexit\n' });
    expect(plan.steps.filter((s) => s.gate).map((s) => s.gate)).toEqual([
      'purge-thl',
      'restore',
      'dsctl-reset',
    ]);
  });

  it.each([
    ['the primary', 'host1', /host1 is the primary.*target-is-primary/],
    ['a replica without a backup configured', 'host3', /host3 has no tungsten.backup/],
  ])('refuses %s as the target', (_, target, message) => {
    expect(() => resolvePlan(tungstenExternalRestore, topology, report(), target)).toThrow(message);
  });

  it('refuses while the manager is unreachable', () => {
    const r = report(
      healthy().map((n) => ({ ...n, cluster: null })),
      { known: false, error: 'cctrl ls: no answer', coordinator: null },
    );
    expect(() => resolvePlan(tungstenExternalRestore, topology, r, 'host2')).toThrow(PlanError);
    expect(() => resolvePlan(tungstenExternalRestore, topology, r, 'host2')).toThrow(
      /cluster view is unknown.*\[cluster-unknown\]/,
    );
  });

  it('drift: a new primary or a new epoch voids destructive approvals', () => {
    const basis = tungsten.planBasis(tungstenExternalRestore, {
      report: report(),
      topology,
      target: 'host2',
    });
    const failedOver = report([
      node('host1', 'replica'),
      node('host2', 'replica'),
      node('host3', 'primary', {
        replicator: { ...node('host3', 'primary').replicator!, latestEpochNumber: 121 },
      }),
    ]);
    expect(tungstenDrift(basis, failedOver, new Set(['host2']))).toEqual(['primary host1 → host3']);
    const restarted = report([
      node('host1', 'primary', {
        replicator: { ...node('host1', 'primary').replicator!, latestEpochNumber: 9 },
      }),
      node('host2', 'replica'),
      node('host3', 'replica'),
    ]);
    expect(tungstenDrift(basis, restarted, new Set())).toEqual([
      'primary host1 epoch 7 → 9 (it went online again)',
    ]);
    expect(tungstenDrift(basis, report(), new Set())).toEqual([]);
  });
});

describe('tungsten monitor conditions', () => {
  it('OFFLINE:ERROR with its pending error, SUSPECT, and a manager that cannot be asked', () => {
    const broken = node('host2', 'replica');
    broken.replicator = {
      ...broken.replicator!,
      state: 'OFFLINE:ERROR',
      pendingError: 'Replicator unable to go online due to error',
      pendingExceptionMessage:
        'Client handshake failure: Client response validation failed: Log epoch numbers do not match',
    };
    const suspect = node('host3', 'replica', { cluster: ds('host3', 'replica', { progress: null }) });
    const r = report([node('host1', 'primary'), broken, suspect], {
      known: false,
      error: 'cctrl ls: no answer',
      coordinator: null,
    });
    const thresholds = { divergence: { maxDelta: 0, forMs: 0 }, unreachableForMs: 0, flapWindowMs: 0 };
    const out = evaluateTungsten({
      report: r,
      memory: emptyMemory(),
      thresholds,
      now: new Date(),
      runExplains: false,
      topology,
    });
    expect(out.active.map((o) => [o.key, o.runbook?.name ?? null])).toEqual([
      ['cluster-unknown', null],
      ['replicator-error.host2', 'tungsten-external-restore'],
      ['replicator-suspect.host3', null],
    ]);
    expect(out.active[1]!.facts.join('\n')).toContain('Log epoch numbers do not match');
  });
});

describe('tungsten status rendering', () => {
  it('text and Block Kit show each node, the proposal, refusals; unknown as unknown', () => {
    const r = report(
      [node('host1', 'primary'), node('host2', 'replica', { cluster: null }), node('host3', 'replica')],
      {
        known: false,
        error: 'cctrl ls: host1: exit 1: ERROR: Unable to connect to the manager',
        coordinator: null,
      },
    );
    const text = tungsten.render.statusText(r);
    expect(text).toMatch(/host2\s+replica\s+\?\s+ONLINE\s+110/);
    expect(text).toContain('cluster view UNKNOWN (manager unreachable)');
    expect(text).toMatch(/! the manager cannot be asked .* \[cluster-unknown\]/);
    const message = tungsten.render.statusMessage(r, ['tungsten-external-restore']);
    const blocks = blocksAsText(message.blocks);
    expect(blocks).toContain('Status: tc');
    expect(blocks).toContain('cluster view UNKNOWN');
    expect(blocks).toContain('cluster-unknown');
    expect(tungsten.toJson(r)).toMatchObject({
      flavour: 'tungsten',
      cluster: { known: false },
      proposal: { restorable: [] },
    });
  });
});
