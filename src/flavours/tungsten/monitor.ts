import { conditionTracker, type ClearedTexts } from '../../monitor/conditions';
import type { MonitorEvaluation, MonitorInput } from '../types';
import type { TungstenReport } from './report';
import { tungstenProposalLine } from './status-text';
import { isSuspectStatus } from './suspect';

const CLEARED: ClearedTexts = {
  'cluster-unknown': () => 'the manager answers again',
  unreachable: (node) => `${node} answers again`,
  'replicator-error': (node) => `the replicator of ${node} is out of OFFLINE:ERROR`,
  'replicator-suspect': (node) => `the manager knows the replicator of ${node} again`,
  lag: (node) => `${node} has caught up (latency under the threshold)`,
};

/**
 * Tungsten conditions, pure: the manager cannot be asked (cluster view unknown), a node
 * unreachable, a replicator in OFFLINE:ERROR (with its pending error), a SUSPECT replicator or
 * progress=-1, applied latency over the topology's maxLatencySeconds.
 */
export function evaluateTungsten(input: MonitorInput<TungstenReport>): MonitorEvaluation {
  const { report, memory, thresholds, now, topology } = input;
  const { open, result } = conditionTracker(memory, now, tungstenProposalLine(report), CLEARED);
  const maxLatency = topology.tungsten?.maxLatencySeconds ?? 60;
  if (!report.cluster.known)
    open(
      {
        key: 'cluster-unknown',
        kind: 'cluster-unknown',
        node: null,
        summary: 'The Tungsten manager cannot be asked: the cluster view is unknown',
        facts: [report.cluster.error ?? 'cctrl ls failed'],
        runbook: null,
      },
      thresholds.unreachableForMs,
    );
  for (const n of report.nodes) {
    if (!n.reachable) {
      open(
        {
          key: `unreachable.${n.name}`,
          kind: 'unreachable',
          node: n.name,
          summary: `${n.name} is unreachable`,
          facts: [n.error ?? 'no answer'],
          runbook: null,
        },
        thresholds.unreachableForMs,
      );
      continue;
    }
    const r = n.replicator;
    if (r?.state === 'OFFLINE:ERROR')
      open({
        key: `replicator-error.${n.name}`,
        kind: 'replicator-error',
        node: n.name,
        summary: `The replicator of ${n.name} is OFFLINE:ERROR`,
        facts: [
          `pendingError: ${r.pendingError ?? '—'} at seqno ${r.pendingErrorSeqno ?? '?'}`,
          `pendingExceptionMessage: ${r.pendingExceptionMessage ?? '—'}`,
        ],
        runbook: n.role === 'replica' ? { name: 'tungsten-external-restore', target: n.name } : null,
      });
    if (isSuspectStatus(n))
      open(
        {
          key: `replicator-suspect.${n.name}`,
          kind: 'replicator-suspect',
          node: n.name,
          summary: `The manager does not know the replicator state of ${n.name} (SUSPECT or progress=-1)`,
          facts: [`datasource ${n.cluster?.state ?? '?'}, replicator ${n.cluster?.replicator?.state ?? '?'}`],
          runbook: null,
        },
        thresholds.divergence.forMs,
      );
    if (
      n.role === 'replica' &&
      r?.appliedLatency !== null &&
      r?.appliedLatency !== undefined &&
      r.appliedLatency > maxLatency
    )
      open(
        {
          key: `lag.${n.name}`,
          kind: 'lag',
          node: n.name,
          summary: `${n.name} applies ${r.appliedLatency}s behind the primary (threshold ${maxLatency}s)`,
          facts: [`applied seqno ${r.appliedLastSeqno ?? '?'}`],
          runbook: null,
        },
        thresholds.divergence.forMs,
      );
  }
  return result();
}
