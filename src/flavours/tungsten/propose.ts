import type { Finding } from '../types';
import type { TungstenTopologySettings } from './config';
import { isSuspectStatus } from './suspect';
import type { ClusterView, Refusal, TungstenNodeStatus, TungstenProposal } from './report';

export interface ProposeInput {
  nodes: TungstenNodeStatus[];
  cluster: ClusterView;
  settings: TungstenTopologySettings;
}

/**
 * Who may be restored from an external backup now, and why not (SYSTEMS.md §3.2), pure: the
 * target must be a replica the manager knows; the manager must answer (shun and recover go
 * through it); the primary's THL and the CLIs must be able to do what the runbook needs.
 * Unknown is never "ok": a node that could not be read, a SUSPECT replicator or progress=-1.
 */
export function proposeRestore({ nodes, cluster }: ProposeInput): TungstenProposal {
  const refusals: Refusal[] = [];
  const global = (code: string, message: string) => refusals.push({ code, message, node: null });
  const onNode = (node: string, code: string, message: string) => refusals.push({ code, message, node });
  if (!cluster.known)
    global(
      'cluster-unknown',
      `the manager cannot be asked (${cluster.error ?? 'cctrl ls failed'}): the cluster view is unknown, and shun/recover need it`,
    );
  const primaries = nodes.filter((n) => n.role === 'primary');
  const primary = primaries.length === 1 ? primaries[0]! : null;
  if (primaries.length === 0)
    global('no-primary', 'no node answers as the primary: its THL is where reset values come from');
  if (primaries.length > 1)
    global('two-primaries', `${primaries.map((p) => p.name).join(' and ')} all answer as primary`);
  if (primary) {
    if (primary.abilities.thlListEvent === false)
      global(
        'cli-too-old',
        `thl on ${primary.name} has no "list -event" (a 5.x replicator?): the seqno of a binlog position cannot be looked up`,
      );
    if (primary.abilities.thlListEvent === null)
      global(
        'cli-unknown',
        `thl help could not be read on ${primary.name}: whether it can look up an event is unknown`,
      );
    if (!primary.thl || primary.thl.minSeqno === null)
      global('thl-unknown', `the THL range of ${primary.name} could not be read (thl info)`);
  }
  const verdicts: Record<string, string> = {};
  const restorable: string[] = [];
  for (const n of nodes) {
    if (n.role === 'primary') {
      verdicts[n.name] = primaryVerdict(n);
      continue;
    }
    if (n.role === 'unknown' || !n.reachable) {
      verdicts[n.name] = `unknown: ${n.error ?? 'not read'}`;
      onNode(n.name, 'node-unknown', `${n.name} could not be read: ${n.error ?? 'no answer'}`);
      continue;
    }
    // Unknown, and said so; still restorable: a replica in trouble is what this runbook is for.
    const suspect = isSuspectStatus(n)
      ? `unknown: the manager lists it with ${describeSuspect(n)} (its replicator state is not known)`
      : null;
    if (cluster.known && !n.cluster)
      onNode(n.name, 'not-a-datasource', `cctrl ls does not list ${n.datasource}`);
    if (n.abilities.dsctlReset === false)
      onNode(n.name, 'cli-too-old', `dsctl on ${n.name} does not take "set -reset" (a 5.x replicator?)`);
    if (n.abilities.dsctlReset === null)
      onNode(n.name, 'cli-unknown', `dsctl help could not be read on ${n.name}`);
    verdicts[n.name] = suspect ?? replicaVerdict(n, primary);
    if (!refusals.some((r) => r.node === null || r.node === n.name)) restorable.push(n.name);
  }
  return { primary: primary?.name ?? null, verdicts, refusals, restorable };
}

const describeSuspect = (n: TungstenNodeStatus): string =>
  n.cluster?.replicator?.state === 'SUSPECT' ? 'REPLICATOR state=SUSPECT' : 'progress=-1 (unknown)';

function primaryVerdict(n: TungstenNodeStatus): string {
  const thl = n.thl;
  const range =
    thl && thl.minSeqno !== null ? `THL seqno ${thl.minSeqno}..${thl.maxSeqno ?? '?'}` : 'THL range unknown';
  const epoch = n.replicator?.latestEpochNumber;
  return `primary: replicator ${n.replicator?.state ?? 'unknown'}, ${range}${epoch !== null && epoch !== undefined ? `, epoch ${epoch}` : ''}`;
}

function replicaVerdict(n: TungstenNodeStatus, primary: TungstenNodeStatus | null): string {
  const r = n.replicator;
  const seqno = r?.appliedLastSeqno ?? null;
  const top = primary?.replicator?.appliedLastSeqno ?? primary?.thl?.maxSeqno ?? null;
  const behind = seqno !== null && top !== null ? ` (${Math.max(0, top - seqno)} behind the primary)` : '';
  const parts = [
    `replica: ${n.cluster ? `${n.cluster.state}${n.cluster.stateDetail ? `(${n.cluster.stateDetail})` : ''}` : 'datasource state unknown'}`,
    `replicator ${r?.state ?? 'unknown'}`,
    `applied seqno ${seqno ?? 'unknown'}${behind}`,
  ];
  if (r?.appliedLatency !== null && r?.appliedLatency !== undefined)
    parts.push(`latency ${r.appliedLatency}s`);
  if (r?.pendingError) parts.push(`pending error: ${r.pendingExceptionMessage ?? r.pendingError}`);
  if (n.backup)
    parts.push(
      `backup (${n.backup.from}) ${n.backup.position ? `at ${n.backup.position}` : `position unknown: ${n.backup.error}`}`,
    );
  return parts.join(', ');
}

/** Conditions the status shows above the nodes (and the monitor alerts on). */
export function tungstenFindings(nodes: TungstenNodeStatus[], settings: TungstenTopologySettings): Finding[] {
  const out: Finding[] = [];
  for (const n of nodes) {
    const r = n.replicator;
    if (r?.state === 'OFFLINE:ERROR')
      out.push({
        code: 'replicator-error',
        message: `${n.name}: replicator OFFLINE:ERROR${r.pendingExceptionMessage ? ` (${r.pendingExceptionMessage})` : ''}`,
      });
    if (
      n.role === 'replica' &&
      r?.appliedLatency !== null &&
      r?.appliedLatency !== undefined &&
      r.appliedLatency > settings.maxLatencySeconds
    )
      out.push({
        code: 'latency',
        message: `${n.name}: applied latency ${r.appliedLatency}s > ${settings.maxLatencySeconds}s`,
      });
    if (isSuspectStatus(n)) out.push({ code: 'suspect', message: `${n.name}: ${describeSuspect(n)}` });
  }
  return out;
}
