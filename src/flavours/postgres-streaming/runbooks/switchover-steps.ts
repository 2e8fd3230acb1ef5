import type { StepTemplate } from '../../../runbook/types';
import {
  archivingSteps,
  canarySteps,
  followingChecklist,
  isTrue,
  on,
  rejoinSteps,
  repointStep,
  newPrimarySteps,
} from './steps';

/** How long the target may take to replay the stopped primary's last checkpoint before the switchover is refused. */
export const CATCH_UP_TIMEOUT_MS = 60_000;

/**
 * The planned ("artificial", seed 003 A.3.7) failover to the --target standby, SYSTEMS.md §2.3:
 * stop the acting primary cleanly, read its last checkpoint, wait until the target replayed it
 * (else refuse: zero loss not proven), promote, repoint the other standbys, rejoin the old
 * primary with pg_rewind -R, and prove every follower streams and sees a canary row.
 * `followers` is the node set checked at the end (it includes the old primary).
 */
export function switchoverSteps(followers: string): StepTemplate[] {
  return [
    {
      id: 'stop-primary',
      title: 'Stop the acting primary cleanly (writes stop here until the target is promoted)',
      target: on('acting-primary'),
      action: { kind: 'service', operation: 'stop' },
      risk: 'destructive',
      gate: 'stop-primary',
    },
    {
      id: 'last-checkpoint',
      title: "Read the stopped primary's last checkpoint (pg_controldata)",
      target: on('acting-primary'),
      action: {
        kind: 'command',
        // LC_ALL=C: the labels the patterns match are translated otherwise.
        argv: ['env', 'LC_ALL=C', '${node.binDir}/pg_controldata', '-D', '${node.dataDir}'],
        where: 'host',
        timeoutMs: 30_000,
        outputs: [
          { name: 'checkpoint', pattern: '^Latest checkpoint location:\\s+([0-9A-F]+/[0-9A-F]+)' },
          { name: 'clusterState', pattern: '^Database cluster state:\\s+(.*\\S)' },
        ],
      },
      // Only a clean shutdown ends with a checkpoint that holds every committed write.
      check: { kind: 'output-equals', name: 'clusterState', value: 'shut down' },
      risk: 'read',
    },
    {
      id: 'zero-loss',
      title: "Wait until the target has replayed the old primary's last checkpoint (zero loss, else refuse)",
      target: on('target'),
      action: {
        kind: 'wait-until',
        probe: {
          kind: 'sql',
          // The shutdown checkpoint is the last record: every commit ends at or before its start.
          sql: 'SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), ?::pg_lsn) >= 0, false) AS ok',
          params: [{ capture: 'checkpoint', step: 'last-checkpoint', node: 'single' }],
        },
        until: isTrue(),
        intervalMs: 250,
        timeoutMs: CATCH_UP_TIMEOUT_MS,
        timeoutMessage:
          "Zero loss could not be proven: ${target.name} never replayed ${primary.name}'s last checkpoint, so nothing was promoted. ${primary.name} is left STOPPED (clean shutdown, nothing lost): start its service again to resume as before, or find out why ${target.name} cannot catch up",
      },
      risk: 'read',
    },
    {
      id: 'promote',
      title: 'Promote the target to primary',
      target: on('target'),
      action: { kind: 'sql', sql: 'SELECT pg_promote(true, 60) AS promoted', params: [] },
      check: isTrue('promoted'),
      risk: 'destructive',
      gate: 'promote',
    },
    ...newPrimarySteps(
      'target',
      'Checkpoint, so the new timeline is on disk (pg_rewind reads it)',
      'Read the new timeline',
    ),
    ...archivingSteps('target'),
    repointStep('switchover-standbys', 'target'),
    // The old primary stopped cleanly at the fork point: pg_rewind has little or nothing to undo
    // and -R makes it a standby. Never a clone fallback here: that could be a full copy over a WAN.
    ...rejoinSteps('acting-primary', 'rewind', 'target').map((s) => ({
      ...s,
      id: `${s.id}-old-primary`,
      title: `${s.title} (old primary)`,
    })),
    followingChecklist('read-timeline', 'target', followers),
    ...canarySteps('target', followers),
  ];
}

/**
 * Fill an empty (or disposable) data directory with pg_basebackup -R from `$server`: refuses a
 * directory a server is running on. Static script, values as positional arguments.
 */
const CLONE = [
  'bin=$1; dir=$2; server=$3; rate=$4',
  'case "$dir" in /?*) ;; *) echo "refusing: bad data directory" >&2; exit 2;; esac',
  'if "$bin/pg_ctl" status -D "$dir" >/dev/null 2>&1; then echo "refusing: a server runs on $dir: stop it first" >&2; exit 2; fi',
  'mkdir -p -m 700 "$dir" && find "$dir" -mindepth 1 -delete || exit 1',
  '"$bin/pg_basebackup" -D "$dir" -d "$server" -R -X stream -c fast ${rate:+--max-rate=$rate} || exit 1',
  'echo "cloned-from: $server"',
].join('\n');

/** Clone `target` nodes from `source` (argValues prefix), with or without the WAN --max-rate. */
export function cloneStep(
  id: string,
  title: string,
  target: string,
  source: 'source' | 'target',
  rate: '${maxRate}' | '',
  gate: string,
): StepTemplate {
  return {
    id,
    title,
    target: on(target),
    action: {
      kind: 'command',
      argv: ['sh', '-c', CLONE, 'clone', '${node.binDir}', '${node.dataDir}', `\${${source}.server}`, rate],
      where: 'host',
      timeoutMs: 24 * 3600_000,
    },
    risk: 'destructive',
    gate,
    independent: true,
  };
}
