import { Topology } from '../../src/config/topology';
import { evaluateMultisite } from '../../src/flavours/multisite/monitor';
import type { Packet } from '../../src/flavours/multisite/parse-lspacket';
import type { MultisiteNodeStatus, MultisiteReport } from '../../src/flavours/multisite/report';
import { multisiteReport, multisiteStatus } from '../helpers/multisite-status';
import { emptyMemory, type MonitorMemory } from '../../src/monitor/types';

const topology = Topology.parse({
  name: 'fam',
  flavour: 'multisite',
  multisite: { dialect: 'clearcase', vobTag: '/vobs/dev' },
  nodes: ['a', 'b', 'c'].map((name) => ({
    name,
    host: {
      transport: 'ssh',
      host: '127.0.0.1',
      port: 2200,
      user: 'u',
      keyPath: '/k',
      knownHostsPath: '/kh',
    },
    multisite: {
      binDir: `/opt/${name}/bin`,
      bay: `/bays/${name}`,
      restore: ['/opt/restore-db', `/backups/${name}.dump`],
      manifest: `/backups/${name}.manifest`,
    },
  })),
});

const status = multisiteStatus;
const report = (...nodes: MultisiteNodeStatus[]) => multisiteReport(nodes);

const outgoing = (to: string): Packet => ({
  path: `/bays/a/outgoing/sync_${to}_01-Dec-26.10.00.00_1_1`,
  type: 'UPDATE',
  from: 'a',
  fromGuid: null,
  sent: null,
  recipients: [to],
  importable: [],
  family: null,
  oplogs: {},
  incarnation: null,
  restorationRequest: null,
  bay: 'outgoing',
});

const thresholds = {
  divergence: { maxDelta: 0, forMs: 60_000 },
  unreachableForMs: 30_000,
  flapWindowMs: 600_000,
};
const evaluate = (
  r: MultisiteReport,
  o: { now?: Date; memory?: MonitorMemory; runExplains?: boolean } = {},
) =>
  evaluateMultisite({
    report: r,
    memory: o.memory ?? emptyMemory(),
    thresholds,
    now: o.now ?? new Date('2026-12-01T10:00:00.000Z'),
    runExplains: o.runExplains ?? false,
    topology,
  });
const keys = (e: ReturnType<typeof evaluate>) => e.active.map((o) => o.key).sort();

describe('multisite monitor conditions', () => {
  it('a quiet family opens nothing', () => {
    expect(keys(evaluate(report(status('a'), status('b'), status('c'))))).toEqual([]);
  });

  it('a replica restored from backup (the lsepoch -actual warning) opens at once, with the runbook for it', () => {
    const restored = status('a', {
      ownOps: 6,
      actualWarnings: [{ kind: 'fewer-own', replica: 'a', other: 'b' }],
    });
    const e = evaluate(report(restored, status('b'), status('c')));
    expect(keys(e)).toEqual(['restoration-needed.a']);
    expect(e.active[0]!.runbook).toEqual({ name: 'multisite-restore', target: 'a' });
    expect(e.active[0]!.cleared).toContain('no longer needs a restoration');
    // A Recover run working on the family explains it: nothing opens.
    expect(keys(evaluate(report(restored, status('b'), status('c')), { runExplains: true }))).toEqual([]);
  });

  it('unreachable, packets stuck in an outgoing bay and a restoration left open wait for their thresholds', () => {
    const r = report(
      status('a', { packets: [outgoing('b')], restoring: true, locked: true, awaiting: ['c'] }),
      status('b'),
      status('c', { reachable: false, error: 'ssh: connect ECONNREFUSED', matrix: null, ownOps: null }),
    );
    const first = evaluate(r);
    expect(keys(first)).toEqual([]);
    const later = evaluate(r, { memory: first.memory, now: new Date('2026-12-01T10:01:30.000Z') });
    expect(keys(later)).toEqual(['packets-stuck.a', 'restoration-open.a', 'unreachable.c']);
    const open = later.active.find((o) => o.kind === 'restoration-open')!;
    expect(open.facts).toEqual(['still owed a restoration update by: c']);
    expect(open.since).toBe('2026-12-01T10:00:00.000Z');
  });
});
