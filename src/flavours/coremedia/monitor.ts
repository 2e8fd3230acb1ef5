/**
 * The monitor's conditions as pure functions over successive probe snapshots: this poll's report
 * plus what earlier polls left in memory → the conditions open now, and the new memory.
 */
import type { MonitorThresholds } from '../../config/topology';
import type { NodeReport } from './report';
import type { CoremediaReport as StatusReport } from './report';
import type { MonitorMemory, Observation, RunbookRef } from '../../monitor/types';

export interface EvaluateInput {
  report: StatusReport;
  memory: MonitorMemory;
  thresholds: MonitorThresholds;
  now: Date;
  /** A Recover run holds the topology, or one changed since the previous poll: sequence moves are explained. */
  runExplains: boolean;
}

export interface Evaluation {
  memory: MonitorMemory;
  /** Conditions open now (thresholds passed). */
  active: Observation[];
  /** Keys this poll can neither confirm nor clear (their node could not be read): their alerts stay as they are. */
  indeterminate: string[];
}

const readable = (n: NodeReport) => n.reachable && !n.error;

export function evaluateConditions(input: EvaluateInput): Evaluation {
  const { report, memory, thresholds, now } = input;
  const nowIso = now.toISOString();
  const proposal = proposalSummary(report);
  const next: MonitorMemory = {
    pendingSince: {},
    highWater: { ...memory.highWater },
    dedicatedSlave: memory.dedicatedSlave,
    lastPollAt: nowIso,
    polls: memory.polls + 1,
  };
  const active: Observation[] = [];
  const indeterminate: string[] = [];
  const pending = (key: string, forMs: number): string | null => {
    const since = memory.pendingSince[key] ?? nowIso;
    next.pendingSince[key] = since;
    return now.getTime() - Date.parse(since) >= forMs ? since : null;
  };
  const keep = (key: string) => {
    indeterminate.push(key);
    const since = memory.pendingSince[key];
    if (since) next.pendingSince[key] = since;
  };
  const open: Ctx['open'] = (o) =>
    void active.push({ rows: [], ...o, proposal, cleared: CLEARED[o.kind]?.(o.node) ?? 'cleared' });

  for (const n of report.nodes) {
    const dark = `unreachable.${n.name}`;
    if (!n.reachable) {
      const since = pending(dark, thresholds.unreachableForMs);
      if (since)
        open({
          key: dark,
          kind: 'unreachable',
          node: n.name,
          summary: `${n.name} (${n.role}) is unreachable`,
          facts: [`${n.name}: ${n.error ?? 'no answer'}`, `${n.engine} · unreachable since ${since}`],
          since,
          runbook: n.role === 'master' ? { name: 'master-from-slave', target: null } : null,
        });
    }

    const rowsKey = `replicator-id-rows.${n.name}`;
    if (n.replicatorIdRows === null) keep(rowsKey);
    else if (n.replicatorIdRows > 0) {
      const since = pending(rowsKey, 0)!;
      open({
        key: rowsKey,
        kind: 'replicator-id-rows',
        node: n.name,
        summary: `ReplicatorIdTable on ${n.name} has ${plural(n.replicatorIdRows, 'row')}: ${n.name} is inconsistent`,
        facts: [
          `${n.name} (${n.role}, ${n.engine}): ${plural(n.replicatorIdRows, 'row')} in ReplicatorIdTable`,
          n.role === 'slave'
            ? 'An inconsistent slave cannot serve as the dedicated slave (seed 000).'
            : 'The master should have an empty ReplicatorIdTable.',
        ],
        rows: n.replicatorIdSample,
        since,
        runbook: restoreRunbook(n),
      });
    }
  }

  const ctx: Ctx = { ...input, next, pending, keep, open };
  divergence(ctx);
  rollbacks(ctx);
  dedicatedChange(ctx);
  return { memory: next, active, indeterminate };
}

/** What the resolution of each condition says. */
const CLEARED: Partial<Record<Observation['kind'], (node: string | null) => string>> &
  Record<
    'replicator-id-rows' | 'unreachable' | 'divergence' | 'sequence-rollback' | 'dedicated-changed',
    (node: string | null) => string
  > = {
  'replicator-id-rows': (node) => `ReplicatorIdTable on ${node} is empty again`,
  unreachable: (node) => `${node} answers again`,
  divergence: () => 'the slaves agree again (within the allowed spread)',
  'sequence-rollback': (node) =>
    `${node}'s sequence is back at its old number, or a Recover run explained the change`,
  'dedicated-changed': () => 'the dedicated slave is as accepted again',
};

/** One evaluation in progress: the input, the memory being built, and how to record a condition. */
interface Ctx extends EvaluateInput {
  next: MonitorMemory;
  /** Track a condition seen now; its start once it has lasted `forMs`, else null. */
  pending(key: string, forMs: number): string | null;
  /** Neither confirmed nor cleared: leave its alert as it is. */
  keep(key: string): void;
  open(o: Omit<Observation, 'proposal' | 'rows' | 'cleared'> & { rows?: Observation['rows'] }): void;
}

function divergence({ report, thresholds: t, pending, keep, open }: Ctx) {
  const slaves = report.nodes.filter((n) => n.role === 'slave');
  const read = slaves.filter((n) => readable(n) && n.replicatorRemote !== null);
  if (read.length < 2) {
    if (slaves.length >= 2) keep('divergence');
    return;
  }
  const seqs = read.map((n) => n.replicatorRemote!);
  const delta = Math.max(...seqs) - Math.min(...seqs);
  if (delta <= t.divergence.maxDelta) return;
  const since = pending('divergence', t.divergence.forMs);
  if (!since) return;
  const behind = report.toRestore[0] ?? null;
  open({
    key: 'divergence',
    kind: 'divergence',
    node: null,
    summary: `Slaves diverge: replicator_remote spread ${delta} > ${t.divergence.maxDelta}`,
    facts: [
      read.map((n) => `${n.name}=${n.replicatorRemote}`).join(', '),
      `diverging since ${since}`,
      ...(report.toRestore.length > 0 ? [`to restore: ${report.toRestore.join(', ')}`] : []),
    ],
    since,
    runbook: behind ? { name: 'slave-from-master', target: behind } : null,
  });
}

function rollbacks({ report, memory, next, runExplains, pending, keep, open }: Ctx) {
  for (const n of report.nodes.filter((x) => x.role === 'slave')) {
    const key = `sequence-rollback.${n.name}`;
    if (!readable(n) || n.replicatorRemote === null) {
      keep(key);
      continue;
    }
    const seq = n.replicatorRemote;
    const high = memory.highWater[n.name];
    // A Recover run moves sequence numbers on purpose: start counting afresh.
    if (runExplains || high === undefined || seq >= high) {
      next.highWater[n.name] = seq;
      continue;
    }
    const since = pending(key, 0)!;
    open({
      key,
      kind: 'sequence-rollback',
      node: n.name,
      summary: `${n.name}'s sequence went backwards: ${high} → ${seq}, with no Recover run behind it`,
      facts: [
        `replicator_remote on ${n.name} was ${high}, is ${seq} (the "epoch rollback" watchdog)`,
        'Open until it is back at or above the old number, or a Recover run resets it.',
      ],
      since,
      runbook: { name: 'slave-from-master', target: n.name },
    });
  }
}

function dedicatedChange({ report, memory, next, runExplains, pending, keep, open }: Ctx) {
  const current = report.dedicatedSlave;
  if (current === null) return keep('dedicated-changed');
  if (runExplains || memory.dedicatedSlave === null || memory.dedicatedSlave === current) {
    next.dedicatedSlave = current;
    return;
  }
  const since = pending('dedicated-changed', 0)!;
  open({
    key: 'dedicated-changed',
    kind: 'dedicated-changed',
    node: current,
    summary: `The dedicated slave changed: ${memory.dedicatedSlave} → ${current}`,
    facts: [
      `${memory.dedicatedSlave}: ${report.verdicts[memory.dedicatedSlave] ?? 'not reported'}`,
      `${current}: ${report.verdicts[current] ?? '—'}`,
      `Open until ${memory.dedicatedSlave} is the dedicated slave again, or a Recover run accepts the change.`,
    ],
    since,
    runbook: null,
  });
}

/** seed 001 restores a slave from the master; seed 000 restores the master from the dedicated slave. */
function restoreRunbook(n: NodeReport): RunbookRef {
  return n.role === 'slave'
    ? { name: 'slave-from-master', target: n.name }
    : { name: 'master-from-slave', target: null };
}

export function proposalSummary(r: StatusReport): string {
  if (r.dedicatedSequence === null) return 'dedicated sequence number unknown (no slave could be read)';
  const tie = r.tie ? ` (tie between ${r.tiedSequences.join(', ')}: confirm)` : '';
  const slave = r.dedicatedSlave
    ? `dedicated slave ${r.dedicatedSlave}${r.fallback ? ' (fallback: confirm)' : ''}`
    : 'no dedicated slave qualifies';
  const restore = r.toRestore.length > 0 ? `; to restore: ${r.toRestore.join(', ')}` : '';
  return `dedicated sequence ${r.dedicatedSequence}${tie}; ${slave}${restore}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
