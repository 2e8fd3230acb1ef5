import { conditionTracker, type ClearedTexts } from '../../monitor/conditions';
import type { MonitorEvaluation, MonitorInput } from '../types';
import type { MultisiteReport } from './report';
import { msProposalLine } from './status-text';

const CLEARED: ClearedTexts = {
  unreachable: (node) => `${node} answers again`,
  'restoration-needed': (node) => `${node} no longer needs a restoration (no lsepoch -actual warning)`,
  'restoration-open': (node) => `${node} is out of restoration`,
  'packets-stuck': (node) => `the outgoing bay of ${node} has emptied`,
};

/**
 * MultiSite conditions, pure: a replica host unreachable; a replica that needs restoring (the
 * `lsepoch -actual` warning, or its database gone); a replica left locked in restoration with no
 * Recover run behind it (siblings still owe it acknowledgements); packets that stay in an
 * outgoing bay (shipping is not delivering). Each waits its threshold before it opens.
 */
export function evaluateMultisite(input: MonitorInput<MultisiteReport>): MonitorEvaluation {
  const { report, memory, thresholds, now, runExplains } = input;
  const { open, result } = conditionTracker(memory, now, msProposalLine(report), CLEARED);
  const p = report.proposal;
  for (const n of report.nodes) {
    if (!n.reachable) {
      open(
        {
          key: `unreachable.${n.name}`,
          kind: 'unreachable',
          node: n.name,
          summary: `${n.name} is unreachable: its packets and acknowledgements cannot be read`,
          facts: [n.error ?? 'no answer'],
          runbook: null,
        },
        thresholds.unreachableForMs,
      );
      continue;
    }
    const stuck = (n.packets ?? []).filter((k) => k.bay === 'outgoing');
    if (stuck.length > 0)
      open(
        {
          key: `packets-stuck.${n.name}`,
          kind: 'packets-stuck',
          node: n.name,
          summary: `${n.name} has ${stuck.length} packet(s) waiting in its outgoing bay`,
          facts: stuck.slice(0, 5).map((k) => `${k.path} → ${k.recipients.join(', ') || '?'}`),
          runbook: null,
        },
        thresholds.divergence.forMs,
      );
    if (n.restoring && !runExplains)
      open(
        {
          key: `restoration-open.${n.name}`,
          kind: 'restoration-open',
          node: n.name,
          summary: `${n.name} is locked in restoration and no Recover run is working on it`,
          facts: [`still owed a restoration update by: ${n.awaiting?.join(', ') || 'unknown'}`],
          runbook: { name: 'multisite-restore', target: n.name },
        },
        thresholds.divergence.forMs,
      );
  }
  if (
    !runExplains &&
    p.restore !== null &&
    (p.evidence === 'lsepoch-warning' || p.evidence === 'database-lost')
  )
    open(
      {
        key: `restoration-needed.${p.restore}`,
        kind: 'restoration-needed',
        node: p.restore,
        summary:
          p.evidence === 'database-lost'
            ? `${p.restore} has lost its database: restore it from a backup`
            : `${p.restore} has fewer of its own operations than a sibling holds: it was restored and needs the restoration procedure`,
        facts: [p.verdicts[p.restore] ?? '', ...p.refusals.map((r) => `refused: ${r.message}`)].filter(
          (f) => f !== '',
        ),
        runbook: { name: 'multisite-restore', target: p.restore },
      },
      0,
    );
  return result();
}
