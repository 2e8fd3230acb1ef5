import { Topology } from '../../src/config/topology';
import { postgresStreaming } from '../../src/flavours/postgres-streaming';
import { evaluatePostgres } from '../../src/flavours/postgres-streaming/monitor';
import type { PostgresNodeStatus, PostgresReport } from '../../src/flavours/postgres-streaming/report';
import { emptyMemory } from '../../src/monitor/types';
import { blocksAsText } from '../helpers/blocks-text';

const topology = Topology.parse({
  name: 'mc',
  flavour: 'postgres-streaming',
  master: 'a',
  postgres: { maxLagBytes: 1000 },
  nodes: ['a', 'c', 'd'].map((name, i) => ({
    name,
    db: { engine: 'postgres', host: '127.0.0.1', port: 5433 + i, database: 'postgres', user: 'u' },
    postgres: { dataDir: `/srv/${name}`, conninfo: `host=127.0.0.1 port=${5433 + i} user=u` },
  })),
});

function node(name: string, over: Partial<PostgresNodeStatus> = {}): PostgresNodeStatus {
  const standby = name !== 'a';
  return {
    name,
    role: standby ? 'standby' : 'primary',
    engine: 'postgres',
    reachable: true,
    error: null,
    latencyMs: 1,
    service: 'running',
    inRecovery: standby,
    timeline: 1,
    timelineSource: standby ? 'receiver' : 'wal',
    currentLsn: standby ? null : '0/5000000',
    receiveLsn: standby ? '0/5000000' : null,
    replayLsn: standby ? '0/5000000' : null,
    position: '0/5000000',
    streaming: standby ? true : null,
    receiver: null,
    replayPaused: standby ? false : null,
    lastReplayAt: null,
    lagBytes: standby ? 0 : null,
    unreplayedBytes: standby ? 0 : null,
    upstream: standby ? 'a' : null,
    replication: null,
    databaseBytes: standby ? null : 30_000_000,
    archiver: standby
      ? null
      : {
          archivedCount: 3,
          lastArchivedWal: null,
          lastArchivedAt: null,
          failedCount: 0,
          lastFailedWal: null,
          lastFailedAt: null,
          failing: false,
        },
    settings: {},
    dataCenter: 'wc',
    ...over,
  };
}

function report(...nodes: PostgresNodeStatus[]): PostgresReport {
  return {
    topology: 'mc',
    flavour: 'postgres-streaming',
    probedAt: '2026-12-01T00:00:00.000Z',
    durationMs: 5,
    nodes,
    warnings: [],
    unknown: nodes.filter((n) => !n.reachable).map((n) => n.name),
    proposal: {
      candidate: 'c',
      verdicts: Object.fromEntries(nodes.map((n) => [n.name, n.name === 'c' ? 'chosen' : 'not chosen'])),
      refusals: [],
      lossBytesEstimate: 0,
      primaryLsn: null,
      formerPrimary: null,
      fenced: null,
      allowDataLoss: { required: false, approved: false, bytesAtRisk: 0 },
      aheadOfCandidate: [],
    },
  };
}

const thresholds = { divergence: { maxDelta: 0, forMs: 0 }, unreachableForMs: 0, flapWindowMs: 600_000 };
const evaluate = (r: PostgresReport) =>
  evaluatePostgres({
    report: r,
    memory: emptyMemory(),
    thresholds,
    now: new Date(),
    runExplains: false,
    topology,
  });
const keys = (r: PostgresReport) =>
  evaluate(r)
    .active.map((o) => o.key)
    .sort();

describe('postgres-streaming monitor conditions', () => {
  it('a healthy fleet opens nothing', () => {
    expect(keys(report(node('a'), node('c'), node('d')))).toEqual([]);
  });

  it('two primaries, a standby not streaming, lag over the threshold, a failing archiver', () => {
    const r = report(
      node('a', {
        archiver: {
          ...node('a').archiver!,
          failing: true,
          failedCount: 3,
          lastFailedWal: '000000010000000000000005',
        },
      }),
      node('c', { role: 'primary', inRecovery: false, streaming: null, upstream: null }),
      node('d', { streaming: false, lagBytes: 5000, upstream: null }),
    );
    expect(keys(r)).toEqual(['archiver-failing.a', 'lag.d', 'not-streaming.d', 'two-primaries']);
  });

  it('after a failover, no standby following the new primary is a warm-spare alert; an unreadable one keeps it undecided', () => {
    const afterFailover = report(
      node('a', { reachable: false, role: 'unknown', error: 'unreachable: connection refused' }),
      node('c', { role: 'primary', inRecovery: false, streaming: null, upstream: null }),
      node('d', { upstream: 'a', streaming: false }),
    );
    const e = evaluate(afterFailover);
    expect(e.active.map((o) => o.key)).toEqual(expect.arrayContaining(['unreachable.a', 'not-streaming.d']));
    // a is unknown: it might still be following; the warm-spare alert is neither opened nor cleared.
    expect(e.indeterminate).toContain('no-warm-spare');

    const known = report(
      node('c', { role: 'primary', inRecovery: false, streaming: null, upstream: null }),
      node('d', { upstream: 'a', streaming: false }),
    );
    const spare = evaluate(known).active.find((o) => o.key === 'no-warm-spare');
    expect(spare?.summary).toBe('No standby streams from primary c: there is no warm spare');
    expect(spare?.runbook).toEqual({ name: 'postgres-rebuild-standby', target: 'd' });
  });

  it('the Slack status shows the proposal, a verdict per node and the refusals within the limits', () => {
    const r = report(
      node('a', { reachable: false, role: 'unknown', error: 'unreachable' }),
      node('c'),
      node('d'),
    );
    r.proposal.refusals = [{ code: 'standby-unknown', message: 'd could not be read', liftable: true }];
    const msg = postgresStreaming.render.statusMessage(r, ['postgres-failover']);
    const text = blocksAsText(msg.blocks ?? []);
    expect(text).toContain('failover candidate c');
    expect(text).toContain('chosen');
    expect(text).toContain('standby-unknown');
    expect(text).toContain('Plan postgres-failover');
    expect(msg.blocks!.length).toBeLessThanOrEqual(50);
  });
});
