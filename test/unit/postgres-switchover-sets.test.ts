import { Topology } from '../../src/config/topology';
import type { PostgresNodeStatus, PostgresReport } from '../../src/flavours/postgres-streaming/report';
import { postgresNodeSet } from '../../src/flavours/postgres-streaming/node-sets';
import { checkSwitchoverTarget, wanEstimate } from '../../src/flavours/postgres-streaming/switchover-sets';
import { postgresNewDatacenter } from '../../src/flavours/postgres-streaming/runbooks/new-datacenter';
import { postgresSwitchover } from '../../src/flavours/postgres-streaming/runbooks/switchover';

const MB = 1024 * 1024;

/** ec1 primary, ec2 standby in "ec"; wa1, wa2 new and silent in "wa". */
function topology(postgres: Record<string, unknown> = {}) {
  const node = (name: string, dc: string, port: number) => ({
    name,
    db: { engine: 'postgres', host: '127.0.0.1', port, database: 'postgres', user: 'u' },
    host: { transport: 'local' },
    service: { status: ['st'], start: ['start'], stop: ['stop'] },
    postgres: { dataDir: `/d/${name}`, conninfo: `host=127.0.0.1 port=${port} user=u`, dataCenter: dc },
  });
  return Topology.parse({
    name: 'pg',
    flavour: 'postgres-streaming',
    postgres,
    nodes: [
      node('ec1', 'ec', 5001),
      node('ec2', 'ec', 5002),
      node('wa1', 'wa', 5003),
      node('wa2', 'wa', 5004),
    ],
  });
}

const status = (name: string, s: Partial<PostgresNodeStatus>): PostgresNodeStatus =>
  ({
    name,
    reachable: true,
    error: null,
    role: 'standby',
    timeline: 1,
    streaming: true,
    lagBytes: 0,
    ...s,
  }) as PostgresNodeStatus;

function ctx(target: string, over: Record<string, Partial<PostgresNodeStatus>> = {}, postgres = {}) {
  const silent = { reachable: false, error: 'unreachable', role: 'unknown' as const, streaming: null };
  const nodes = [
    status('ec1', { role: 'primary', streaming: null, databaseBytes: 300 * MB, ...over.ec1 }),
    status('ec2', { ...over.ec2 }),
    status('wa1', { ...silent, ...over.wa1 }),
    status('wa2', { ...silent, ...over.wa2 }),
  ];
  return {
    report: { nodes, proposal: { aheadOfCandidate: [] } } as unknown as PostgresReport,
    topology: topology(postgres),
    target,
  };
}

const refusal = (f: () => unknown) => {
  try {
    f();
    return 'planned';
  } catch (e) {
    return (e as Error).message;
  }
};

describe('postgres switchover and new data center node sets', () => {
  it('switchover: target promoted, other standbys repointed, the old primary follows afterwards', () => {
    const c = ctx('ec2');
    expect(postgresNodeSet('acting-primary', c)).toEqual(['ec1']);
    expect(postgresNodeSet('switchover-standbys', c)).toEqual([]);
    expect(postgresNodeSet('switchover-followers', c)).toEqual(['ec1']);
    expect(checkSwitchoverTarget(postgresSwitchover, c)).toEqual([
      'wa1 could not be read (unreachable): it is not repointed; afterwards run postgres-rebuild-standby --target wa1',
      'wa2 could not be read (unreachable): it is not repointed; afterwards run postgres-rebuild-standby --target wa2',
    ]);
  });

  it.each([
    ['replay paused', { replayPaused: true }, /its WAL replay is paused/],
    ['not streaming', { streaming: false }, /it is not streaming/],
    ['another timeline', { timeline: 2 }, /it is on timeline 2, ec1 on 1/],
    [
      'unreachable',
      { reachable: false, error: 'unreachable', role: 'unknown' as const },
      /not a standby that answers \(unreachable\)/,
    ],
    ['a second primary', { role: 'primary' as const }, /ec1 and ec2 all answer as primary: split brain/],
  ])('switchover refuses a target that is %s', (_, over, why) => {
    expect(refusal(() => checkSwitchoverTarget(postgresSwitchover, ctx('ec2', { ec2: over })))).toMatch(why);
  });

  it('new data center: first node from --target, the others of its data center cloned from it', () => {
    const c = ctx('wa1', {}, { linkRates: { 'ec->wa': 10 * MB }, maxRate: 5 * MB });
    expect(postgresNodeSet('new-dc-first', c)).toEqual(['wa1']);
    expect(postgresNodeSet('new-dc-others', c)).toEqual(['wa2']);
    expect(postgresNodeSet('new-dc-followers', c)).toEqual(['ec2', 'wa2', 'ec1']);
    expect(checkSwitchoverTarget(postgresNewDatacenter, c)).toEqual([
      'WAN transfer (base backup of wa1, once): 300 MB from ec1 (link ec->wa 10 MB/s, --max-rate 5.0 MB/s, 50% of the link): about 60 s',
    ]);
    expect(refusal(() => checkSwitchoverTarget(postgresNewDatacenter, ctx('ec2')))).toMatch(
      /it is in ec, the primary's own data center/,
    );
    expect(
      refusal(() => checkSwitchoverTarget(postgresNewDatacenter, ctx('wa1', { wa2: status('wa2', {}) }))),
    ).toMatch(/wa2 already runs as a standby/);
  });

  it.each([
    [
      {},
      300 * MB,
      '300 MB from ec1 (no link rate configured for ec->wa, --max-rate unlimited): transfer time unknown',
    ],
    [
      { linkRates: { 'ec->wa': 1 * MB } },
      7200 * MB,
      '7200 MB from ec1 (link ec->wa 1.0 MB/s, --max-rate unlimited): about 2.0 h',
    ],
    [
      { maxRate: 2 * MB },
      null,
      'unknown size from ec1 (no link rate configured for ec->wa, --max-rate 2.0 MB/s): transfer time unknown',
    ],
  ])('WAN estimate with %j', (postgres, bytes, text) => {
    expect(wanEstimate(ctx('wa1', { ec1: { databaseBytes: bytes } }, postgres))).toBe(text);
  });
});
