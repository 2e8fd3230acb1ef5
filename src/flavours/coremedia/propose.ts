import type { FleetReport, NodeReport } from './report';
import type { PlannerWarning, Proposal, ReplayRange } from './proposal';

/** A slave whose replicator state was fully read. */
export type KnownSlave = NodeReport & { replicatorRemote: number; replicatorIdRows: number };

/** Only a fully read node counts: a partial read is as untrustworthy as no read at all. */
export function isKnown(node: NodeReport): node is KnownSlave {
  return (
    node.reachable && node.error === null && node.replicatorRemote !== null && node.replicatorIdRows !== null
  );
}

/** The sequence numbers sharing the top count, ascending; several means a tie. */
export function mostCommonSequences(sequences: readonly number[]): number[] {
  const counts = new Map<number, number>();
  for (const s of sequences) counts.set(s, (counts.get(s) ?? 0) + 1);
  const top = Math.max(0, ...counts.values());
  return [...counts]
    .filter(([, count]) => count === top)
    .map(([s]) => s)
    .sort((a, b) => a - b);
}

/** Why a node is unknown, from its own error text where there is one. */
export function unknownReason(node: NodeReport): string {
  // The probe's error already says what happened; only add "unreachable" where it does not.
  if (!node.reachable)
    return node.error?.startsWith('unreachable') ? node.error : `unreachable: ${node.error ?? 'no session'}`;
  if (node.error !== null) return node.error;
  if (node.replicatorRemote === null) return 'replicator_remote not read';
  return 'ReplicatorIdTable not read';
}

// Code-point order, not localeCompare: the choice must not depend on the host's locale.
const byName = (a: NodeReport, b: NodeReport): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const rows = (n: number): string => `${n} row${n === 1 ? '' : 's'}`;
const list = (nodes: readonly NodeReport[]): string => nodes.map((n) => n.name).join(', ');

interface Choice {
  dedicated: KnownSlave | null;
  /** The number actually restored from: the fallback's when there is one. */
  sequence: number;
  fallback: boolean;
}

/** Seed 000: a consistent slave with the majority number, else the next candidate, flagged. */
function choose(known: KnownSlave[], majority: number, warnings: PlannerWarning[]): Choice {
  const atMajority = known.filter((s) => s.replicatorRemote === majority);
  const chosen = atMajority.filter((s) => s.replicatorIdRows === 0).sort(byName)[0];
  if (chosen) return { dedicated: chosen, sequence: majority, fallback: false };

  const next = known
    .filter((s) => s.replicatorRemote !== majority && s.replicatorIdRows === 0)
    .sort((a, b) => b.replicatorRemote - a.replicatorRemote || byName(a, b))[0];
  if (!next) {
    // One warning, not two: 'no-consistent-slave' already implies the majority is inconsistent.
    const detail = known.map((s) => `${s.name}: ${rows(s.replicatorIdRows)}`).join(', ');
    warnings.push({
      code: 'no-consistent-slave',
      message: `No consistent slave: every known slave has rows in ReplicatorIdTable (${detail}); nothing safe to restore from.`,
    });
    return { dedicated: null, sequence: majority, fallback: false };
  }
  // dedicatedSequence follows the slave actually restored from: the runbook sets the replicator
  // rows on slaves with *that* number, and replay ranges start after it.
  warnings.push({
    code: 'dedicated-inconsistent',
    message:
      `Every slave with sequence ${majority} (${list(atMajority)}) has rows in ReplicatorIdTable. ` +
      `Fallback: ${next.name} (sequence ${next.replicatorRemote}), the consistent slave with the highest ` +
      `sequence; dedicated sequence is now ${next.replicatorRemote}. A human must confirm.`,
  });
  return { dedicated: next, sequence: next.replicatorRemote, fallback: true };
}

function verdictFor(s: KnownSlave, c: Choice, majority: number): { verdict: string; inSync: boolean } {
  const seq = s.replicatorRemote;
  const d = c.sequence;
  if (s === c.dedicated) {
    const verdict = c.fallback
      ? `chosen as fallback: sequence ${seq}, ReplicatorIdTable empty (every slave with ${majority} is inconsistent)`
      : `chosen: sequence ${seq}, ReplicatorIdTable empty`;
    return { verdict, inSync: true };
  }
  if (seq === d && s.replicatorIdRows === 0 && c.dedicated) {
    return { verdict: `in sync (${d}); not chosen (${c.dedicated.name} was chosen)`, inSync: true };
  }
  const action = c.dedicated
    ? 'restore from dedicated backup'
    : 'must be restored, but no consistent slave to restore from';
  if (seq === d) {
    return {
      verdict: `in sync (${d}) but ReplicatorIdTable has ${rows(s.replicatorIdRows)}: inconsistent, ${c.dedicated ? 'restore it' : action}`,
      inSync: false,
    };
  }
  const where = seq < d ? 'behind' : 'ahead';
  const dirty = s.replicatorIdRows > 0 ? `, ReplicatorIdTable has ${rows(s.replicatorIdRows)}` : '';
  return { verdict: `${where}: sequence ${seq} ≠ dedicated ${d}${dirty}: ${action}`, inSync: false };
}

function unknownWarning(unknown: NodeReport[], d: number | null): PlannerWarning {
  const names = unknown
    .map((n) =>
      n.replicatorRemote === null ? n.name : `${n.name} (read ${n.replicatorRemote} before failing)`,
    )
    .join(', ');
  const replay = d === null ? '' : ` They may be ahead: publications after ${d} may need replaying.`;
  return {
    code: 'slaves-unknown',
    message: `Slaves not read: ${names}. Check them by hand or re-probe; they are not in this plan.${replay}`,
  };
}

/** Replay warnings and range: everything seen beyond the dedicated number may be missing. */
function replay(report: FleetReport, known: KnownSlave[], unknown: NodeReport[], d: number) {
  const warnings: PlannerWarning[] = [];
  let to = d;
  const top = [...known].sort((a, b) => b.replicatorRemote - a.replicatorRemote || byName(a, b))[0];
  if (top && top.replicatorRemote > d) {
    to = top.replicatorRemote;
    warnings.push({
      code: 'dedicated-below-highest',
      message: `Dedicated sequence ${d} is below ${top.name}'s ${to}: publications ${d + 1}-${to} may need replaying.`,
    });
  }
  let masterUnread = false;
  for (const m of report.nodes.filter((n) => n.role === 'master')) {
    // A master that is down is the normal case when recovering it: no warning.
    if (!m.reachable) continue;
    if (m.error !== null) {
      masterUnread = true;
      warnings.push({
        code: 'master-unknown',
        message: `Master ${m.name} answered but could not be read (${m.error}): it may be ahead of ${d}; check its changelog by hand.`,
      });
      continue;
    }
    const last = m.lastChangelog?.sequenceno;
    if (last !== undefined && last > d) {
      to = Math.max(to, last);
      warnings.push({
        code: 'master-ahead',
        message: `Master ${m.name} is ahead: last changelog ${last} > dedicated ${d}: publications ${d + 1}-${last} may need replaying.`,
      });
    }
  }
  if (unknown.length > 0) {
    warnings.push(unknownWarning(unknown, d));
    // A partial read is not trusted for planning, but it widens the replay range (the safe side).
    for (const n of unknown) if (n.replicatorRemote !== null) to = Math.max(to, n.replicatorRemote);
  }
  const openEnded = unknown.length > 0 || masterUnread;
  const range: ReplayRange | null = to > d ? { from: d + 1, to, ...(openEnded ? { openEnded } : {}) } : null;
  return { warnings, range };
}

/** Seed 000's choice of the dedicated slave, with a verdict for every slave. Pure. */
export function proposeDedicatedSlave(report: FleetReport): Proposal {
  const slaves = report.nodes.filter((n) => n.role === 'slave');
  const known = slaves.filter(isKnown);
  const unknown = slaves.filter((n) => !isKnown(n));
  const warnings: PlannerWarning[] = [];
  // Keys inserted in report order; known slaves' verdicts are filled in below.
  const verdicts: Record<string, string> = {};
  for (const n of slaves) verdicts[n.name] = isKnown(n) ? '' : `unknown: ${unknownReason(n)}`;

  const tied = mostCommonSequences(known.map((s) => s.replicatorRemote));
  const majority = tied.at(-1);
  const tie = tied.length > 1;
  if (tie) {
    warnings.push({
      code: 'tie',
      message: `Tie: sequences ${tied.join(', ')} are equally common; proposing the highest, ${majority}. A human must confirm.`,
    });
  }
  const base: Proposal = {
    dedicatedSequence: null,
    tie,
    tiedSequences: tie ? tied : [],
    dedicatedSlave: null,
    fallback: false,
    inSync: [],
    toRestore: [],
    unknown: unknown.map((n) => n.name),
    verdicts,
    warnings,
    replayRange: null,
  };
  if (majority === undefined) {
    warnings.push({
      code: 'no-reachable-slave',
      message:
        slaves.length === 0
          ? 'No slaves in the report: nothing to restore from.'
          : `No slave could be read (${list(slaves)}): nothing to restore from.`,
    });
    if (unknown.length > 0) warnings.push(unknownWarning(unknown, null));
    return base;
  }

  const choice = choose(known, majority, warnings);
  for (const s of known) {
    const { verdict, inSync } = verdictFor(s, choice, majority);
    verdicts[s.name] = verdict;
    (inSync ? base.inSync : base.toRestore).push(s.name);
  }
  const { warnings: replayWarnings, range } = replay(report, known, unknown, choice.sequence);
  warnings.push(...replayWarnings);
  return {
    ...base,
    dedicatedSequence: choice.sequence,
    dedicatedSlave: choice.dedicated?.name ?? null,
    fallback: choice.fallback,
    replayRange: range,
  };
}
