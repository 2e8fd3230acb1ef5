import { conditionTracker, type ClearedTexts } from '../../monitor/conditions';
import type { MonitorEvaluation, MonitorInput } from '../types';
import type { PostgresNodeStatus, PostgresReport } from './report';
import { pgProposalLine } from './status-text';

const CLEARED: ClearedTexts = {
  'two-primaries': () => 'only one node answers as primary again',
  unreachable: (node) => `${node} answers again`,
  'not-streaming': (node) => `${node} streams again`,
  lag: (node) => `${node} has caught up (lag under the threshold)`,
  'archiver-failing': (node) => `${node} archives WAL again`,
  'no-warm-spare': () => 'a standby streams from the primary again',
};

const readable = (n: PostgresNodeStatus) => n.reachable && n.error === null;

/**
 * PostgreSQL streaming conditions, pure: two primaries; a node unreachable; a standby not
 * streaming; the archiver failing; lag over the topology's maxLagBytes; and the seed's warm-spare
 * warning — a primary with standbys configured but none streaming from it.
 */
export function evaluatePostgres(input: MonitorInput<PostgresReport>): MonitorEvaluation {
  const { report, memory, thresholds, now, topology } = input;
  const { open, keep, result } = conditionTracker(memory, now, pgProposalLine(report), CLEARED);
  const failover = { name: 'postgres-failover', target: null };
  const maxLag = topology.postgres?.maxLagBytes ?? 1024 * 1024;

  const primaries = report.nodes.filter((n) => readable(n) && n.role === 'primary');
  if (primaries.length > 1)
    open({
      key: 'two-primaries',
      kind: 'two-primaries',
      node: null,
      summary: `${primaries.map((p) => p.name).join(' and ')} all answer as primary (split brain)`,
      facts: primaries.map(
        (p) => `${p.name}: primary on timeline ${p.timeline ?? '?'} at ${p.currentLsn ?? '?'}`,
      ),
      runbook: null,
    });

  for (const n of report.nodes) {
    if (!n.reachable) {
      open(
        {
          key: `unreachable.${n.name}`,
          kind: 'unreachable',
          node: n.name,
          summary: `${n.name} is unreachable`,
          facts: [`${n.name}: ${n.error ?? 'no answer'}`, `service: ${n.service ?? 'not read'}`],
          runbook: topology.master === n.name ? failover : null,
        },
        thresholds.unreachableForMs,
      );
      for (const kind of ['not-streaming', 'lag']) keep(`${kind}.${n.name}`);
      continue;
    }
    if (n.role === 'standby' && n.streaming === false)
      open(
        {
          key: `not-streaming.${n.name}`,
          kind: 'not-streaming',
          node: n.name,
          summary: `${n.name} is not streaming (no WAL receiver): it falls behind`,
          facts: [
            `${n.name}: replay ${n.replayLsn ?? '?'}, receive ${n.receiveLsn ?? '?'}`,
            `primary_conninfo: ${n.settings.primary_conninfo ?? '—'}`,
          ],
          runbook: { name: 'postgres-rebuild-standby', target: n.name },
        },
        thresholds.divergence.forMs,
      );
    if (n.role === 'standby' && n.lagBytes !== null && n.lagBytes > maxLag)
      open(
        {
          key: `lag.${n.name}`,
          kind: 'lag',
          node: n.name,
          summary: `${n.name} lags ${n.lagBytes} bytes behind the primary (threshold ${maxLag})`,
          facts: [`${n.name}: replay ${n.replayLsn ?? '?'}`],
          runbook: null,
        },
        thresholds.divergence.forMs,
      );
    if (n.role === 'primary' && n.archiver?.failing)
      open({
        key: `archiver-failing.${n.name}`,
        kind: 'archiver-failing',
        node: n.name,
        summary: `${n.name} cannot archive WAL: ${n.archiver.failedCount} failures`,
        facts: [
          `last failed ${n.archiver.lastFailedWal ?? '?'} at ${n.archiver.lastFailedAt ?? '?'}`,
          `last archived ${n.archiver.lastArchivedWal ?? '—'}`,
        ],
        runbook: null,
      });
  }

  // Seed A.3.1.1: if the new primary fails too, everything since the first failover is lost.
  const primary = primaries.length === 1 ? primaries[0]! : null;
  const standbys = report.nodes.filter((n) => n.name !== primary?.name);
  if (primary && standbys.length > 0) {
    const unread = standbys.some((n) => !readable(n));
    const following = standbys.filter(
      (n) => readable(n) && n.role === 'standby' && n.streaming && n.upstream === primary.name,
    );
    if (following.length === 0 && unread) keep('no-warm-spare');
    else if (following.length === 0)
      open({
        key: 'no-warm-spare',
        kind: 'no-warm-spare',
        node: primary.name,
        summary: `No standby streams from primary ${primary.name}: there is no warm spare`,
        facts: standbys.map(
          (n) =>
            `${n.name}: ${n.role}${n.upstream ? ` following ${n.upstream}` : ''}${n.streaming === false ? ', not streaming' : ''}`,
        ),
        runbook: { name: 'postgres-rebuild-standby', target: standbys[0]!.name },
      });
  }
  return result();
}
