import { MonitorThresholds } from '../../src/config/topology';
import { evaluateConditions } from '../../src/flavours/coremedia/monitor';
import { emptyMemory, type MonitorMemory } from '../../src/monitor/types';
import { proposeDedicatedSlave } from '../../src/flavours/coremedia/propose';
import type { NodeReport } from '../../src/flavours/coremedia/report';
import type { CoremediaReport as StatusReport } from '../../src/flavours/coremedia/report';

const slave = (name: string, seq: number | null, rows: number | null = 0): NodeReport => ({
  ...{ name, role: 'slave', engine: 'postgres', reachable: true, error: null, replicatorRowsMissing: false },
  ...{ replicatorRemote: seq, replicatorLocal: seq, replicatorTag: seq === null ? null : `tag-${seq}` },
  ...{ replicatorIdRows: rows, serverType: 'live', lastChangelog: null, latencyMs: 2 },
  replicatorIdSample: rows ? [{ id: 1, sequenceno: seq }] : [],
});
const dark = (name: string, role: 'slave' | 'master' = 'slave'): NodeReport => ({
  ...slave(name, null, null),
  role,
  reachable: false,
  error: 'unreachable: connection refused',
});
const master = (): NodeReport => ({ ...slave('mls', null, 0), role: 'master', serverType: 'publication' });

function report(...nodes: NodeReport[]): StatusReport {
  const fleet = { topology: 'live', flavour: 'coremedia' as const, probedAt: '', nodes };
  return { ...fleet, ...proposeDedicatedSlave(fleet), durationMs: 5 };
}

const thresholds = MonitorThresholds.parse({
  divergence: { maxDelta: 2, forMs: 60_000 },
  unreachableForMs: 30_000,
});

/** One poll: seconds since the start, what the probe saw, whether a Recover run explains moves. */
interface Step {
  at: number;
  nodes: NodeReport[];
  run?: boolean;
  active: string[];
  indeterminate?: string[];
}

const healthy = () => [master(), slave('rls-1', 1042), slave('rls-2', 1042), slave('rls-3', 1042)];
const cases: { name: string; steps: Step[] }[] = [
  {
    name: 'a healthy fleet opens nothing',
    steps: [
      { at: 0, nodes: healthy(), active: [] },
      { at: 30, nodes: healthy(), active: [] },
    ],
  },
  {
    name: 'ReplicatorIdTable rows open at once, on any node, and clear when empty',
    steps: [
      { at: 0, nodes: healthy(), active: [] },
      {
        at: 2,
        nodes: [{ ...master(), replicatorIdRows: 1 }, slave('rls-1', 1042), slave('rls-2', 1042, 3)],
        active: ['replicator-id-rows.mls', 'replicator-id-rows.rls-2'],
      },
      { at: 4, nodes: healthy(), active: [] },
    ],
  },
  {
    name: 'rows on a node that then goes dark stay open (indeterminate), not resolved',
    steps: [
      {
        at: 0,
        nodes: [master(), slave('rls-1', 1042), slave('rls-2', 1042, 2)],
        active: ['replicator-id-rows.rls-2'],
      },
      {
        at: 2,
        nodes: [master(), slave('rls-1', 1042), dark('rls-2')],
        active: [],
        indeterminate: ['replicator-id-rows.rls-2', 'sequence-rollback.rls-2'],
      },
    ],
  },
  {
    name: 'unreachable opens only after unreachableForMs, and clears when it answers',
    steps: [
      { at: 0, nodes: [master(), slave('rls-1', 1042), dark('rls-2')], active: [] },
      { at: 20, nodes: [master(), slave('rls-1', 1042), dark('rls-2')], active: [] },
      { at: 31, nodes: [master(), slave('rls-1', 1042), dark('rls-2')], active: ['unreachable.rls-2'] },
      { at: 40, nodes: [master(), slave('rls-1', 1042), slave('rls-2', 1042)], active: [] },
    ],
  },
  {
    name: 'a dark spell that ends before the threshold never opens, and starts from zero next time',
    steps: [
      { at: 0, nodes: [master(), slave('rls-1', 1042), dark('rls-2')], active: [] },
      { at: 25, nodes: [master(), slave('rls-1', 1042), slave('rls-2', 1042)], active: [] },
      { at: 30, nodes: [master(), slave('rls-1', 1042), dark('rls-2')], active: [] },
      { at: 59, nodes: [master(), slave('rls-1', 1042), dark('rls-2')], active: [] },
    ],
  },
  {
    name: 'divergence above maxDelta opens after forMs; within maxDelta it does not',
    steps: [
      { at: 0, nodes: [master(), slave('rls-1', 1042), slave('rls-2', 1040)], active: [] },
      { at: 10, nodes: [master(), slave('rls-1', 1043), slave('rls-2', 1040)], active: [] },
      { at: 69, nodes: [master(), slave('rls-1', 1043), slave('rls-2', 1040)], active: [] },
      { at: 71, nodes: [master(), slave('rls-1', 1043), slave('rls-2', 1040)], active: ['divergence'] },
      { at: 80, nodes: [master(), slave('rls-1', 1043), slave('rls-2', 1041)], active: [] },
    ],
  },
  {
    name: 'a sequence going backwards without a run opens the rollback watchdog until it catches up',
    steps: [
      { at: 0, nodes: healthy(), active: [] },
      {
        at: 2,
        nodes: [master(), slave('rls-1', 1042), slave('rls-2', 1042), slave('rls-3', 1030)],
        active: ['sequence-rollback.rls-3'],
      },
      {
        at: 4,
        nodes: [master(), slave('rls-1', 1042), slave('rls-2', 1042), slave('rls-3', 1041)],
        active: ['sequence-rollback.rls-3'],
      },
      { at: 6, nodes: [...healthy().slice(0, 3), slave('rls-3', 1043)], active: [] },
    ],
  },
  {
    name: 'a sequence going backwards while a Recover run holds the topology is explained',
    steps: [
      { at: 0, nodes: healthy(), active: [] },
      {
        at: 2,
        run: true,
        nodes: [master(), slave('rls-1', 1030), slave('rls-2', 1030), slave('rls-3', 1030)],
        active: [],
      },
      {
        at: 4,
        nodes: [master(), slave('rls-1', 1030), slave('rls-2', 1030), slave('rls-3', 1030)],
        active: [],
      },
    ],
  },
  {
    name: 'the dedicated slave changing opens an alert; returning clears it; a run accepts a change',
    steps: [
      { at: 0, nodes: healthy(), active: [] },
      {
        at: 2,
        nodes: [master(), slave('rls-1', 1042, 1), slave('rls-2', 1042), slave('rls-3', 1042)],
        active: ['dedicated-changed', 'replicator-id-rows.rls-1'],
      },
      { at: 4, nodes: healthy(), active: [] },
      {
        at: 6,
        run: true,
        nodes: [master(), slave('rls-1', 1042, 1), slave('rls-2', 1042), slave('rls-3', 1042)],
        active: ['replicator-id-rows.rls-1'],
      },
      {
        at: 8,
        nodes: [master(), slave('rls-1', 1042, 1), slave('rls-2', 1042), slave('rls-3', 1042)],
        active: ['replicator-id-rows.rls-1'],
      },
    ],
  },
];

describe('monitor conditions over successive snapshots', () => {
  it.each(cases)('$name', ({ steps }) => {
    let memory: MonitorMemory = emptyMemory();
    const t0 = Date.parse('2026-11-21T10:00:00Z');
    for (const [i, step] of steps.entries()) {
      const out = evaluateConditions({
        report: report(...step.nodes),
        memory,
        thresholds,
        now: new Date(t0 + step.at * 1000),
        runExplains: step.run ?? false,
      });
      expect({ step: i, active: out.active.map((o) => o.key).sort() }).toEqual({
        step: i,
        active: [...step.active].sort(),
      });
      for (const key of step.indeterminate ?? []) expect(out.indeterminate).toContain(key);
      memory = out.memory;
    }
  });
});

describe('what an observation carries', () => {
  const now = new Date('2026-11-21T10:00:00Z');
  const out = evaluateConditions({
    report: report(master(), slave('rls-1', 1042), slave('rls-2', 1042, 3)),
    memory: emptyMemory(),
    thresholds,
    now,
    runExplains: false,
  });
  const rows = out.active.find((o) => o.kind === 'replicator-id-rows')!;

  it('names the node, the rows found, the current proposal and the runbook to plan', () => {
    expect(rows.node).toBe('rls-2');
    expect(rows.summary).toBe('ReplicatorIdTable on rls-2 has 3 rows: rls-2 is inconsistent');
    expect(rows.rows).toEqual([{ id: 1, sequenceno: 1042 }]);
    expect(rows.proposal).toBe('dedicated sequence 1042; dedicated slave rls-1; to restore: rls-2');
    expect(rows.runbook).toEqual({ name: 'slave-from-master', target: 'rls-2' });
    expect(rows.since).toBe(now.toISOString());
  });

  it('keeps "since" from the first poll that saw it', () => {
    const later = evaluateConditions({
      report: report(master(), slave('rls-1', 1042), slave('rls-2', 1042, 4)),
      memory: out.memory,
      thresholds,
      now: new Date(now.getTime() + 5000),
      runExplains: false,
    });
    expect(later.active[0]?.since).toBe(now.toISOString());
    expect(later.memory.polls).toBe(2);
  });

  it('an unreachable master points at master-from-slave (seed 000)', () => {
    const t = MonitorThresholds.parse({ unreachableForMs: 0 });
    const dm = evaluateConditions({
      report: report(dark('mls', 'master'), slave('rls-1', 1042)),
      memory: emptyMemory(),
      thresholds: t,
      now,
      runExplains: false,
    });
    expect(dm.active.map((o) => [o.key, o.runbook?.name])).toEqual([
      ['unreachable.mls', 'master-from-slave'],
    ]);
  });
});
