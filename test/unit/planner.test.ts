import { isKnown, mostCommonSequences, proposeDedicatedSlave } from '../../src/flavours/coremedia/propose';
import type { Proposal, WarningCode } from '../../src/flavours/coremedia/proposal';
import type { FleetReport, NodeReport } from '../../src/flavours/coremedia/report';

/** A fully read slave; `idRows` > 0 makes it inconsistent. */
const slave = (name: string, seq: number | null, idRows: number | null = 0): NodeReport => ({
  ...{ name, role: 'slave', engine: 'postgres', reachable: true, error: null, replicatorRowsMissing: false },
  ...{ serverType: 'slave' },
  ...{ replicatorRemote: seq, replicatorLocal: seq, replicatorTag: seq === null ? null : `tag-${seq}` },
  ...{ replicatorIdRows: idRows, replicatorIdSample: [], lastChangelog: null, latencyMs: 4 },
});
const down = (name: string, error = 'connect ETIMEDOUT'): NodeReport => ({
  ...slave(name, null, null),
  ...{ reachable: false, error, serverType: null, latencyMs: null },
});
/** Answered, but part of its state could not be read. */
const broken = (name: string, error: string, seq: number | null = null): NodeReport => ({
  ...slave(name, seq, null),
  error,
});
const MASTER_ERROR = {
  up: null,
  down: 'connect ECONNREFUSED',
  broken: 'relation "changelog" does not exist',
};
const master = (name: string, last: number | null, state: keyof typeof MASTER_ERROR = 'up'): NodeReport => ({
  ...{ ...slave(name, null, null), role: 'master', serverType: 'master' },
  ...{ reachable: state !== 'down', error: MASTER_ERROR[state] },
  lastChangelog: last === null || state !== 'up' ? null : { sequenceno: last, idtag: `id-${last}` },
});
const fleet = (...nodes: NodeReport[]): FleetReport => ({
  topology: 'live',
  flavour: 'coremedia',
  probedAt: '',
  nodes,
});

interface Scenario {
  name: string;
  report: FleetReport;
  expect: Partial<Proposal>;
  codes: WarningCode[];
  verdicts?: Record<string, string>;
  /** Substrings each warning's message must contain. */
  messages?: Partial<Record<WarningCode, string[]>>;
}

const BEHIND = 'restore from dedicated backup';
const scenarios: Scenario[] = [
  {
    name: 'all in sync',
    report: fleet(
      master('mls', null, 'down'),
      slave('rls-1', 1042),
      slave('rls-2', 1042),
      slave('rls-3', 1042),
    ),
    expect: {
      ...{ dedicatedSequence: 1042, dedicatedSlave: 'rls-1', tie: false, tiedSequences: [], fallback: false },
      ...{ inSync: ['rls-1', 'rls-2', 'rls-3'], toRestore: [], unknown: [], replayRange: null },
    },
    codes: [],
    verdicts: {
      'rls-1': 'chosen: sequence 1042, ReplicatorIdTable empty',
      'rls-2': 'in sync (1042); not chosen (rls-1 was chosen)',
      'rls-3': 'in sync (1042); not chosen (rls-1 was chosen)',
    },
  },
  {
    name: 'majority with one behind and one ahead',
    report: fleet(slave('rls-1', 1030), slave('rls-2', 1042), slave('rls-3', 1042), slave('rls-4', 1050)),
    expect: {
      ...{ dedicatedSequence: 1042, dedicatedSlave: 'rls-2', tie: false, inSync: ['rls-2', 'rls-3'] },
      ...{ toRestore: ['rls-1', 'rls-4'], replayRange: { from: 1043, to: 1050 } },
    },
    codes: ['dedicated-below-highest'],
    verdicts: {
      'rls-1': `behind: sequence 1030 ≠ dedicated 1042: ${BEHIND}`,
      'rls-2': 'chosen: sequence 1042, ReplicatorIdTable empty',
      'rls-3': 'in sync (1042); not chosen (rls-2 was chosen)',
      'rls-4': `ahead: sequence 1050 ≠ dedicated 1042: ${BEHIND}`,
    },
    messages: { 'dedicated-below-highest': ['1042', "rls-4's 1050", '1043-1050'] },
  },
  {
    name: '2-2 tie proposes the highest',
    report: fleet(slave('rls-1', 1030), slave('rls-2', 1042), slave('rls-3', 1030), slave('rls-4', 1042)),
    expect: {
      ...{ dedicatedSequence: 1042, dedicatedSlave: 'rls-2', tie: true, tiedSequences: [1030, 1042] },
      ...{ inSync: ['rls-2', 'rls-4'], toRestore: ['rls-1', 'rls-3'], replayRange: null },
    },
    codes: ['tie'],
    messages: { tie: ['1030, 1042', 'highest, 1042', 'human must confirm'] },
  },
  {
    name: '3-way tie',
    report: fleet(slave('rls-1', 1050), slave('rls-2', 1030), slave('rls-3', 1042)),
    expect: {
      ...{ dedicatedSequence: 1050, dedicatedSlave: 'rls-1', tie: true, tiedSequences: [1030, 1042, 1050] },
      ...{ inSync: ['rls-1'], toRestore: ['rls-2', 'rls-3'], replayRange: null },
    },
    codes: ['tie'],
  },
  {
    name: 'majority all inconsistent: fallback to the highest consistent slave',
    report: fleet(
      ...[slave('rls-1', 1042, 3), slave('rls-2', 1042, 1), slave('rls-3', 1030)],
      ...[slave('rls-4', 1020), slave('rls-5', 1035, 2), slave('rls-6', 1030), slave('rls-7', 1042, 1)],
    ),
    expect: {
      ...{ dedicatedSequence: 1030, dedicatedSlave: 'rls-3', fallback: true, tie: false, tiedSequences: [] },
      ...{ inSync: ['rls-3', 'rls-6'], toRestore: ['rls-1', 'rls-2', 'rls-4', 'rls-5', 'rls-7'] },
      replayRange: { from: 1031, to: 1042 },
    },
    codes: ['dedicated-inconsistent', 'dedicated-below-highest'],
    verdicts: {
      'rls-1': `ahead: sequence 1042 ≠ dedicated 1030, ReplicatorIdTable has 3 rows: ${BEHIND}`,
      'rls-2': `ahead: sequence 1042 ≠ dedicated 1030, ReplicatorIdTable has 1 row: ${BEHIND}`,
      'rls-3':
        'chosen as fallback: sequence 1030, ReplicatorIdTable empty (every slave with 1042 is inconsistent)',
      'rls-4': `behind: sequence 1020 ≠ dedicated 1030: ${BEHIND}`,
      'rls-5': `ahead: sequence 1035 ≠ dedicated 1030, ReplicatorIdTable has 2 rows: ${BEHIND}`,
      'rls-6': 'in sync (1030); not chosen (rls-3 was chosen)',
      'rls-7': `ahead: sequence 1042 ≠ dedicated 1030, ReplicatorIdTable has 1 row: ${BEHIND}`,
    },
    messages: { 'dedicated-inconsistent': ['1042 (rls-1, rls-2, rls-7)', 'Fallback: rls-3 (sequence 1030)'] },
  },
  {
    name: 'tie whose highest group is inconsistent falls back',
    report: fleet(
      slave('rls-1', 1042, 2),
      slave('rls-2', 1042, 1),
      slave('rls-3', 1030),
      slave('rls-4', 1030),
    ),
    expect: {
      ...{
        dedicatedSequence: 1030,
        dedicatedSlave: 'rls-3',
        fallback: true,
        tie: true,
        tiedSequences: [1030, 1042],
      },
      ...{ inSync: ['rls-3', 'rls-4'], toRestore: ['rls-1', 'rls-2'], replayRange: { from: 1031, to: 1042 } },
    },
    codes: ['tie', 'dedicated-inconsistent', 'dedicated-below-highest'],
  },
  {
    name: 'no consistent slave at all',
    report: fleet(slave('rls-1', 1042, 2), slave('rls-2', 1042, 1), slave('rls-3', 1030, 4)),
    expect: {
      ...{ dedicatedSequence: 1042, dedicatedSlave: null, fallback: false, inSync: [] },
      ...{ toRestore: ['rls-1', 'rls-2', 'rls-3'], replayRange: null },
    },
    codes: ['no-consistent-slave'],
    verdicts: {
      'rls-1':
        'in sync (1042) but ReplicatorIdTable has 2 rows: inconsistent, must be restored, but no consistent slave to restore from',
      'rls-2':
        'in sync (1042) but ReplicatorIdTable has 1 row: inconsistent, must be restored, but no consistent slave to restore from',
      'rls-3':
        'behind: sequence 1030 ≠ dedicated 1042, ReplicatorIdTable has 4 rows: must be restored, but no consistent slave to restore from',
    },
    messages: { 'no-consistent-slave': ['rls-1: 2 rows', 'rls-3: 4 rows'] },
  },
  {
    name: 'unknown slaves are never counted, not even as 0',
    report: fleet(
      ...[slave('rls-1', 1042), down('rls-2'), down('rls-3', 'getaddrinfo ENOTFOUND rls-3')],
      ...[broken('rls-4', 'permission denied for table replicatoridtable', 0), slave('rls-5', 0, null)],
    ),
    expect: {
      ...{
        dedicatedSequence: 1042,
        dedicatedSlave: 'rls-1',
        tie: false,
        tiedSequences: [],
        inSync: ['rls-1'],
      },
      ...{ toRestore: [], unknown: ['rls-2', 'rls-3', 'rls-4', 'rls-5'], replayRange: null },
    },
    codes: ['slaves-unknown'],
    verdicts: {
      'rls-1': 'chosen: sequence 1042, ReplicatorIdTable empty',
      'rls-2': 'unknown: unreachable: connect ETIMEDOUT',
      'rls-3': 'unknown: unreachable: getaddrinfo ENOTFOUND rls-3',
      'rls-4': 'unknown: permission denied for table replicatoridtable',
      'rls-5': 'unknown: ReplicatorIdTable not read',
    },
    messages: {
      'slaves-unknown': ['rls-2, rls-3, rls-4 (read 0 before failing), rls-5', 'after 1042', 're-probe'],
    },
  },
  {
    name: 'a partial read above the dedicated number widens an open-ended range',
    report: fleet(slave('rls-1', 1042), slave('rls-2', 1042), broken('rls-3', 'statement timeout', 1060)),
    expect: {
      ...{ dedicatedSequence: 1042, dedicatedSlave: 'rls-1', inSync: ['rls-1', 'rls-2'], unknown: ['rls-3'] },
      replayRange: { from: 1043, to: 1060, openEnded: true },
    },
    codes: ['slaves-unknown'],
    messages: { 'slaves-unknown': ['rls-3 (read 1060 before failing)'] },
  },
  {
    name: 'no reachable slaves',
    report: fleet(master('mls', 1042), down('rls-1'), broken('rls-2', 'password authentication failed')),
    expect: {
      ...{ dedicatedSequence: null, dedicatedSlave: null, tie: false, inSync: [], toRestore: [] },
      ...{ unknown: ['rls-1', 'rls-2'], replayRange: null },
    },
    codes: ['no-reachable-slave', 'slaves-unknown'],
    verdicts: {
      'rls-1': 'unknown: unreachable: connect ETIMEDOUT',
      'rls-2': 'unknown: password authentication failed',
    },
    messages: { 'no-reachable-slave': ['rls-1, rls-2'] },
  },
  {
    name: 'no slaves in the report',
    report: fleet(master('mls', 1042)),
    expect: { dedicatedSequence: null, dedicatedSlave: null, unknown: [], verdicts: {} },
    codes: ['no-reachable-slave'],
  },
  {
    name: 'master reachable and ahead',
    report: fleet(master('mls', 1048), slave('rls-1', 1042), slave('rls-2', 1042)),
    expect: { dedicatedSequence: 1042, dedicatedSlave: 'rls-1', replayRange: { from: 1043, to: 1048 } },
    codes: ['master-ahead'],
    messages: { 'master-ahead': ['mls', '1048 > dedicated 1042', '1043-1048'] },
  },
  {
    name: 'master reachable and level: nothing to replay',
    report: fleet(master('mls', 1042), slave('rls-1', 1042)),
    expect: { dedicatedSequence: 1042, replayRange: null },
    codes: [],
  },
  {
    name: 'master down: no master warning',
    report: fleet(master('mls', 2000, 'down'), slave('rls-1', 1042), slave('rls-2', 1042)),
    expect: { dedicatedSequence: 1042, dedicatedSlave: 'rls-1', replayRange: null },
    codes: [],
  },
  {
    name: 'master reachable but broken',
    report: fleet(master('mls', null, 'broken'), slave('rls-1', 1042), slave('rls-2', 1045)),
    expect: { dedicatedSequence: 1045, tie: true, replayRange: null },
    codes: ['tie', 'master-unknown'],
    messages: { 'master-unknown': ['mls', 'relation "changelog" does not exist', 'ahead of 1045'] },
  },
  {
    name: 'dedicated below highest slave and master: range to the highest seen',
    report: fleet(master('mls', 1050), slave('rls-1', 1042), slave('rls-2', 1042), slave('rls-3', 1045)),
    expect: { dedicatedSequence: 1042, toRestore: ['rls-3'], replayRange: { from: 1043, to: 1050 } },
    codes: ['dedicated-below-highest', 'master-ahead'],
    messages: { 'dedicated-below-highest': ['1043-1045'], 'master-ahead': ['1043-1050'] },
  },
  {
    name: 'several consistent in-sync slaves: chosen by name, not report order',
    report: fleet(slave('rls-c', 1042), slave('rls-a', 1042, 5), slave('rls-d', 1042), slave('rls-b', 1042)),
    expect: {
      ...{ dedicatedSequence: 1042, dedicatedSlave: 'rls-b', fallback: false },
      ...{ inSync: ['rls-c', 'rls-d', 'rls-b'], toRestore: ['rls-a'] },
    },
    codes: [],
    verdicts: {
      'rls-c': 'in sync (1042); not chosen (rls-b was chosen)',
      'rls-a': 'in sync (1042) but ReplicatorIdTable has 5 rows: inconsistent, restore it',
      'rls-d': 'in sync (1042); not chosen (rls-b was chosen)',
      'rls-b': 'chosen: sequence 1042, ReplicatorIdTable empty',
    },
  },
];

describe('proposeDedicatedSlave', () => {
  it.each(scenarios)('$name', ({ report, expect: expected, codes, verdicts, messages }) => {
    const p = proposeDedicatedSlave(report);
    expect(p).toMatchObject(expected);
    expect(p.warnings.map((w) => w.code)).toEqual(codes);
    if (verdicts) expect(p.verdicts).toEqual(verdicts);
    for (const [code, parts] of Object.entries(messages ?? {})) {
      const message = p.warnings.find((w) => w.code === code)?.message;
      for (const part of parts) expect(message).toContain(part);
    }
  });

  it.each(scenarios)('$name: one verdict per slave, each slave in one list, pure', ({ report }) => {
    const before = structuredClone(report);
    const p = proposeDedicatedSlave(report);
    const slaves = report.nodes.filter((n) => n.role === 'slave').map((n) => n.name);
    expect(Object.keys(p.verdicts)).toEqual(slaves);
    for (const v of Object.values(p.verdicts)) expect(v).toMatch(/^(chosen|in sync|behind|ahead|unknown)/);
    expect([...p.inSync, ...p.toRestore, ...p.unknown].sort()).toEqual([...slaves].sort());
    if (p.dedicatedSlave !== null) expect(p.inSync).toContain(p.dedicatedSlave);
    if (p.replayRange) expect(p.replayRange.from).toBe((p.dedicatedSequence ?? NaN) + 1);
    expect(report).toEqual(before);
    expect(proposeDedicatedSlave(report)).toEqual(p);
  });
});

describe('helpers', () => {
  it.each([
    { seqs: [], top: [] },
    { seqs: [7], top: [7] },
    { seqs: [5, 7, 7, 5, 9], top: [5, 7] },
    { seqs: [9, 3, 6], top: [3, 6, 9] },
    { seqs: [1, 1, 2], top: [1] },
  ])('mostCommonSequences($seqs) = $top', ({ seqs, top }) => {
    expect(mostCommonSequences(seqs)).toEqual(top);
  });

  it.each([
    { node: slave('a', 1), known: true },
    { node: slave('a', 0), known: true },
    { node: slave('a', null), known: false },
    { node: slave('a', 1, null), known: false },
    { node: down('a'), known: false },
    { node: broken('a', 'boom', 1), known: false },
  ])('isKnown #%#', ({ node, known }) => {
    expect(isKnown(node)).toBe(known);
  });
});
