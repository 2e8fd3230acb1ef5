import {
  blockingRefusals,
  proposeFailover,
  type CandidateSettings,
  type ProposeFacts,
  type ProposeInput,
} from '../../src/flavours/postgres-streaming/propose';

/** A standby that answered: timeline 1, caught up unless told otherwise. */
const standby = (name: string, position: string, extra: Partial<ProposeFacts> = {}): ProposeFacts => ({
  name,
  reachable: true,
  error: null,
  inRecovery: true,
  timeline: 1,
  position,
  replayPaused: false,
  unreplayedBytes: 0,
  upstream: 'a',
  ...extra,
});
const primary = (name: string, position: string, extra: Partial<ProposeFacts> = {}): ProposeFacts => ({
  ...standby(name, position),
  inRecovery: false,
  upstream: null,
  ...extra,
});
const down = (name: string, extra: Partial<ProposeFacts> = {}): ProposeFacts => ({
  name,
  reachable: false,
  error: 'unreachable: connection refused',
  inRecovery: null,
  timeline: null,
  position: null,
  replayPaused: null,
  unreplayedBytes: null,
  upstream: null,
  ...extra,
});

function input(nodes: ProposeFacts[], over: Partial<ProposeInput> = {}): ProposeInput {
  return {
    nodes,
    settings: { preferDataCenters: [], maxLagBytes: 1024 * 1024 },
    nodeSettings: {},
    configuredPrimary: 'a',
    primaryLsn: { lsn: '0/5000000', timeline: 1, source: 'archive' },
    ...over,
  };
}
const codes = (i: ProposeInput) => proposeFailover(i).refusals.map((r) => r.code);
const cfg = (c: Partial<CandidateSettings>): CandidateSettings => ({
  dataCenter: 'default',
  priority: 100,
  backupOnly: false,
  ...c,
});

describe('proposeFailover: candidate choice', () => {
  it.each<[string, ProposeInput, string | null]>([
    ['greatest position wins', input([down('a'), standby('b', '0/5000100'), standby('c', '0/5000200')]), 'c'],
    [
      'higher timeline beats a greater position',
      input([down('a'), standby('b', '0/9000000'), standby('c', '0/5000000', { timeline: 2 })], {
        primaryLsn: null,
      }),
      'c',
    ],
    [
      'tie → preferred data center',
      input([down('a'), standby('b', '0/5000000'), standby('c', '0/5000000')], {
        settings: { preferDataCenters: ['ec', 'wc'], maxLagBytes: 1 << 20 },
        nodeSettings: { b: cfg({ dataCenter: 'wc' }), c: cfg({ dataCenter: 'ec' }) },
      }),
      'c',
    ],
    [
      'tie, same data center → priority',
      input([down('a'), standby('b', '0/5000000'), standby('c', '0/5000000')], {
        nodeSettings: { b: cfg({ priority: 200 }), c: cfg({ priority: 100 }) },
      }),
      'b',
    ],
    [
      'tie, same priority → less WAL left to replay',
      input([down('a'), standby('b', '0/5000000', { unreplayedBytes: 800 }), standby('c', '0/5000000')]),
      'c',
    ],
    [
      'priority 0 never, even when ahead',
      input([down('a'), standby('b', '0/5000000'), standby('c', '0/6000000')], {
        nodeSettings: { c: cfg({ priority: 0 }) },
        primaryLsn: null,
      }),
      'b',
    ],
    [
      'backup-only never without the gate',
      input([down('a'), standby('b', '0/5000000', { timeline: 1 })], {
        nodeSettings: { b: cfg({ backupOnly: true }) },
      }),
      null,
    ],
    [
      'backup-only admitted once allow-data-loss is approved',
      input([down('a'), standby('b', '0/5000000')], {
        nodeSettings: { b: cfg({ backupOnly: true }) },
        allowDataLoss: true,
      }),
      'b',
    ],
    [
      'an unknown standby is never the candidate',
      input([down('a'), down('b'), standby('c', '0/5000000')]),
      'c',
    ],
  ])('%s', (_name, i, candidate) => {
    expect(proposeFailover(i).candidate).toBe(candidate);
  });
});

describe('proposeFailover: refusals', () => {
  it.each<[string, ProposeInput, string[]]>([
    [
      'clean failover: old primary down, all standbys known',
      input([down('a'), standby('b', '0/5000000'), standby('c', '0/5000000')]),
      [],
    ],
    [
      'the primary still answers',
      input([primary('a', '0/5000000'), standby('b', '0/5000000')]),
      ['primary-alive'],
    ],
    [
      'two primaries (the old one came back)',
      input([
        primary('a', '0/5000000'),
        primary('b', '0/6000000', { timeline: 2 }),
        standby('c', '0/6000000', { timeline: 2, upstream: 'b' }),
      ]),
      ['two-primaries'],
    ],
    [
      'a standby is unknown: it may be ahead',
      input([down('a'), standby('b', '0/5000000'), down('c')]),
      ['standby-unknown'],
    ],
    [
      'the candidate has replay paused with WAL unreplayed',
      input([down('a'), standby('b', '0/5000000', { replayPaused: true, unreplayedBytes: 4096 })]),
      ['replay-paused-unreplayed'],
    ],
    [
      'paused but nothing left to replay is fine',
      input([down('a'), standby('b', '0/5000000', { replayPaused: true, unreplayedBytes: 0 })]),
      [],
    ],
    [
      'loss over maxLagBytes',
      input([down('a'), standby('b', '0/4000000')], {
        primaryLsn: { lsn: '0/5000000', timeline: 1, source: 'memory' },
      }),
      ['loss-over-threshold'],
    ],
    [
      'no primary LSN known at all',
      input([down('a'), standby('b', '0/5000000')], { primaryLsn: null }),
      ['loss-unknown'],
    ],
    ['nobody to promote', input([down('a'), down('b')]), ['standby-unknown', 'no-candidate']],
    [
      'wrong candidate: a priority-0 standby is past it',
      input([down('a'), standby('b', '0/5000000'), standby('c', '0/5001000')], {
        nodeSettings: { c: cfg({ priority: 0 }) },
      }),
      ['standby-ahead'],
    ],
  ])('%s', (_name, i, expected) => {
    expect(codes(i)).toEqual(expected);
  });

  it('two primaries and no candidate cannot be lifted; the rest can, once approved', () => {
    const split = proposeFailover(
      input([primary('a', '0/5000000'), primary('b', '0/6000000', { timeline: 2 })], { allowDataLoss: true }),
    );
    expect(blockingRefusals(split).map((r) => r.code)).toEqual(['two-primaries', 'no-candidate']);
    const unknown = proposeFailover(
      input([down('a'), standby('b', '0/5000000'), down('c')], { allowDataLoss: true }),
    );
    expect(unknown.refusals.map((r) => r.code)).toEqual(['standby-unknown']);
    expect(blockingRefusals(unknown)).toEqual([]);
    expect(unknown.allowDataLoss).toEqual({ required: true, approved: true, bytesAtRisk: null });
  });

  it('only backup-only nodes left: no-candidate the gate can lift', () => {
    const p = proposeFailover(
      input([down('a'), standby('b', '0/5000000')], { nodeSettings: { b: cfg({ backupOnly: true }) } }),
    );
    expect(p.refusals).toEqual([expect.objectContaining({ code: 'no-candidate', liftable: true })]);
  });
});

describe('proposeFailover: loss, bytes at risk, verdicts, fencing', () => {
  it('estimates loss as last primary LSN − candidate position and shows it to the approver', () => {
    const p = proposeFailover(
      input([down('a', { service: 'stopped' }), standby('b', '0/4F00000'), standby('c', '0/4E00000')], {
        primaryLsn: { lsn: '0/5000000', timeline: 1, source: 'memory' },
      }),
    );
    expect(p.candidate).toBe('b');
    expect(p.lossBytesEstimate).toBe(0x100000);
    expect(p.allowDataLoss).toEqual({ required: false, approved: false, bytesAtRisk: 0x100000 });
    expect(p.fenced).toBe(true);
    expect(p.formerPrimary).toBe('a');
    expect(p.verdicts).toEqual({
      a: 'old primary: unknown (unreachable: connection refused), service stopped',
      b: 'chosen: timeline 1 at 0/4F00000',
      c: 'behind the candidate by 1048576 bytes',
    });
  });

  it('the primary ahead of the candidate is loss; a candidate past the archive is no loss', () => {
    const alive = proposeFailover(input([primary('a', '0/5000400'), standby('b', '0/5000000')]));
    expect(alive.lossBytesEstimate).toBe(0x400);
    expect(alive.fenced).toBe(false);
    const past = proposeFailover(input([down('a'), standby('b', '0/5800000')]));
    expect(past.lossBytesEstimate).toBe(0);
    expect(past.fenced).toBeNull(); // no service state: cannot tell, the plan must fence or say "unfenced"
  });

  it('wrong candidate: the standby past it gets the bytes it would lose, which are at risk', () => {
    const p = proposeFailover(
      input([down('a'), standby('b', '0/5000000'), standby('c', '0/5001388', { timeline: 1 })], {
        nodeSettings: { c: cfg({ backupOnly: true }) },
      }),
    );
    expect(p.candidate).toBe('b');
    expect(p.aheadOfCandidate).toEqual([{ node: 'c', bytes: 5000 }]);
    expect(p.allowDataLoss.bytesAtRisk).toBe(5000);
    expect(p.verdicts.c).toBe(
      'backup-only, never a candidate without allow-data-loss: ahead of the candidate by 5000 bytes: would be rewound, losing them',
    );
  });

  it('every node gets one line, including ties, unknowns and priority 0', () => {
    const p = proposeFailover(
      input(
        [
          down('a'),
          standby('b', '0/5000000'),
          standby('c', '0/5000000'),
          down('d', { reachable: true, error: 'probe timed out after 1000 ms' }),
          standby('e', '0/4000000', { priority: 0 } as Partial<ProposeFacts>),
          standby('f', '0/3000000'),
        ],
        { nodeSettings: { b: cfg({ priority: 150 }), e: cfg({ priority: 0 }) } },
      ),
    );
    expect(p.verdicts).toEqual({
      a: 'old primary: unknown (unreachable: connection refused)',
      b: 'chosen: timeline 1 at 0/5000000',
      c: 'same position as the candidate; lost the tie on priority',
      d: 'unknown (probe timed out after 1000 ms): may be ahead',
      e: 'priority 0, never promoted: behind the candidate by 16777216 bytes',
      f: 'behind the candidate by 33554432 bytes',
    });
  });

  it('the old primary is the node the standbys stream from, not only the configured one', () => {
    const p = proposeFailover(
      input([down('a'), down('b'), standby('c', '0/5000000', { upstream: 'b' })], { configuredPrimary: 'a' }),
    );
    expect(p.formerPrimary).toBe('b');
    expect(p.refusals.map((r) => r.code)).toEqual(['standby-unknown']);
    expect(p.refusals[0]?.message).toMatch(/^a unknown/);
  });
});
