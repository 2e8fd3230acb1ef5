import type { Check, StepTemplate, TargetSpec } from '../../../runbook/types';

const on = (kind: string): TargetSpec => ({ kind });
const isTrue = (column = 'ok'): Check => ({ kind: 'column-true', column });

/** psql on the node's own host, reading SQL from stdin so that :'name' quotes values as literals. */
export function psqlOnNode(stdin: string, vars: Record<string, string>) {
  return {
    kind: 'command' as const,
    argv: [
      '${node.binDir}/psql',
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      ...Object.entries(vars).flatMap(([k, v]) => ['-v', `${k}=${v}`]),
      '-h',
      '${node.host}',
      '-p',
      '${node.port}',
      '-U',
      '${node.user}',
      '-d',
      '${node.database}',
    ],
    where: 'host' as const,
    stdin,
    timeoutMs: 30_000,
  };
}

/**
 * Repoint a standby at the new primary: primary_conninfo is reloadable since PostgreSQL 13.
 * `upstream` names the argValues prefix of the new primary (candidate.*, or target.* for a switchover).
 */
export function repointStep(target: string, upstream: 'candidate' | 'target' = 'candidate'): StepTemplate {
  return {
    id: 'repoint',
    title: 'Point the standby at the new primary (primary_conninfo, reload)',
    target: on(target),
    action: psqlOnNode("ALTER SYSTEM SET primary_conninfo = :'conninfo';\nSELECT pg_reload_conf();\n", {
      conninfo: `\${${upstream}.conninfo}`,
    }),
    risk: 'write',
    independent: true,
  };
}

/**
 * pg_rewind, or a fresh pg_basebackup when it cannot rewind. Static script, values as positional
 * arguments: nothing from the topology is ever parsed by the shell. Prints which way it went.
 */
const REWIND_OR_CLONE = [
  'bin=$1; dir=$2; server=$3; rate=$4; mode=$5',
  'case "$dir" in /?*) ;; *) echo "refusing: bad data directory" >&2; exit 2;; esac',
  'if [ "$mode" != clone ] && "$bin/pg_rewind" --target-pgdata="$dir" --source-server="$server" -R; then echo "rebuilt-by: pg_rewind"; exit 0; fi',
  '[ "$mode" = rewind ] && exit 1',
  'echo "pg_rewind cannot rewind $dir: cloning it with pg_basebackup" >&2',
  'find "$dir" -mindepth 1 -delete || exit 1',
  '"$bin/pg_basebackup" -D "$dir" -d "$server" -R -X stream -c fast ${rate:+--max-rate=$rate} || exit 1',
  'echo "rebuilt-by: pg_basebackup"',
].join('\n');

/**
 * Stop, rewind (or clone), re-apply the node's own settings (pg_rewind and pg_basebackup copy
 * postgresql.conf from the source: port and cluster_name would be the source's), start.
 */
export function rebuildSteps(
  target: string,
  mode: 'rewind' | 'rewind-or-clone',
  /** candidate: the standby a failover promotes; source: the primary that answers now. */
  from: 'candidate' | 'source',
): StepTemplate[] {
  return [
    {
      id: 'stop-for-rebuild',
      title: 'Stop the node to rebuild it',
      target: on(target),
      action: { kind: 'service', operation: 'stop' },
      risk: 'destructive',
      gate: 'rebuild',
      independent: true,
    },
    ...rejoinSteps(target, mode, from),
  ];
}

/**
 * Rewind (or clone) a node that is already stopped from `source` (an argValues prefix: the
 * failover candidate, the primary, or the switchover target), re-apply its own settings and
 * start it as a standby.
 */
export function rejoinSteps(
  target: string,
  mode: 'rewind' | 'rewind-or-clone',
  source: 'candidate' | 'source' | 'target',
): StepTemplate[] {
  return [
    {
      id: 'rewind',
      title:
        mode === 'rewind'
          ? 'pg_rewind from the new primary (discards WAL past the fork point)'
          : 'pg_rewind from the primary, or pg_basebackup when it cannot rewind',
      target: on(target),
      action: {
        kind: 'command',
        argv: [
          'sh',
          '-c',
          REWIND_OR_CLONE,
          'rebuild',
          '${node.binDir}',
          '${node.dataDir}',
          `\${${source}.server}`,
          '${maxRate}',
          mode === 'rewind' ? 'rewind' : 'any',
        ],
        where: 'host',
        timeoutMs: 6 * 3600_000,
        outputs: [{ name: 'rebuiltBy', pattern: 'rebuilt-by: (\\S+)' }],
      },
      risk: 'destructive',
      gate: 'rebuild',
      independent: true,
    },
    ...settleSteps(target),
  ];
}

/** After a copy (pg_rewind, pg_basebackup): the node's own settings again, then start it as a standby. */
export function settleSteps(target: string): StepTemplate[] {
  return [
    {
      id: 'local-settings',
      title: "Re-apply the node's own settings (port, cluster_name, …) after the copy",
      target: on(target),
      action: {
        kind: 'command',
        argv: [
          'sh',
          '-c',
          'printf "%s\\n" "$1" >> "$0"',
          '${node.dataDir}/postgresql.conf',
          '${node.localSettings}',
        ],
        where: 'host',
        timeoutMs: 30_000,
      },
      risk: 'write',
      independent: true,
    },
    {
      id: 'start-rebuilt',
      title: 'Start the node as a standby',
      target: on(target),
      action: { kind: 'service', operation: 'start' },
      risk: 'write',
      independent: true,
    },
  ];
}

/** Every other standby streams from the new primary on its timeline. */
export function followingChecklist(
  timelineStep: string | null,
  primary = 'candidate',
  standbys = 'other-standbys',
): StepTemplate {
  return {
    id: 'standbys-following',
    title: 'Every other standby streams from the new primary',
    target: on(primary),
    action: {
      kind: 'checklist',
      each: on(standbys),
      title: 'streaming from the new primary',
      probe: timelineStep
        ? {
            kind: 'sql',
            sql: "SELECT count(*) = 1 AS ok FROM pg_stat_wal_receiver WHERE status = 'streaming' AND received_tli = ?::int",
            params: [{ capture: 'timeline', step: timelineStep, node: 'single' }],
          }
        : {
            kind: 'sql',
            sql: "SELECT count(*) = 1 AS ok FROM pg_stat_wal_receiver WHERE status = 'streaming'",
            params: [],
          },
      until: isTrue(),
      // A repointed standby streams within ~0.5 s (PostgreSQL restarts its WAL receiver on
      // reload): a check is one cheap query per standby, so look often rather than add 0.5 s.
      intervalMs: 100,
      timeoutMs: 300_000,
    },
    risk: 'read',
  };
}

/** A row written on the primary and seen on every standby: replication works end to end. */
export function canarySteps(primary = 'candidate', standbys = 'other-standbys'): StepTemplate[] {
  return [
    {
      id: 'canary-table',
      title: 'Make sure the canary table exists',
      target: on(primary),
      action: {
        kind: 'sql',
        sql: 'CREATE TABLE IF NOT EXISTS recover_canary (token text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())',
        params: [],
      },
      risk: 'write',
    },
    {
      id: 'canary-write',
      title: 'Write a canary row on the new primary',
      target: on(primary),
      action: {
        kind: 'sql',
        sql: 'INSERT INTO recover_canary (token) VALUES (md5(random()::text || clock_timestamp()::text)) RETURNING token',
        params: [],
      },
      captures: [{ name: 'token', column: 'token' }],
      risk: 'write',
    },
    {
      id: 'canary-seen',
      title: 'The canary row is visible on every standby',
      target: on(primary),
      action: {
        kind: 'checklist',
        each: on(standbys),
        title: 'canary visible',
        probe: {
          kind: 'sql',
          sql: 'SELECT count(*) = 1 AS ok FROM recover_canary WHERE token = ?',
          params: [{ capture: 'token', step: 'canary-write', node: 'single' }],
        },
        until: isTrue(),
        // Streaming standbys replay the canary within milliseconds: a long pause would be pure wait.
        intervalMs: 100,
        timeoutMs: 120_000,
      },
      risk: 'read',
    },
  ];
}

/**
 * The new primary must archive at once (seed 003 A.3.1.1 warm spare rule: else a second failure
 * loses what it wrote since): switch WAL and wait until pg_stat_archiver shows a success.
 */
export function archivingSteps(primary: string): StepTemplate[] {
  return [
    {
      id: 'switch-wal',
      title: 'Switch WAL so the new primary archives at once',
      target: on(primary),
      action: { kind: 'sql', sql: 'SELECT pg_switch_wal()::text AS lsn', params: [] },
      risk: 'write',
    },
    {
      id: 'archiving',
      title: 'Wait until the new primary archives WAL (else a second failure loses data)',
      target: on(primary),
      action: {
        kind: 'wait-until',
        probe: {
          kind: 'sql',
          sql: 'SELECT archived_count > 0 AND (last_failed_time IS NULL OR last_archived_time >= last_failed_time) AS ok FROM pg_stat_archiver',
          params: [],
        },
        until: isTrue(),
        intervalMs: 500,
        timeoutMs: 120_000,
      },
      risk: 'read',
    },
  ];
}

export { on, isTrue };

/** The new primary's timeline and LSN, from its current WAL file (pg_control lags until a checkpoint). */
export function readTimelineStep(primary: string, title = 'Read the new timeline and LSN'): StepTemplate {
  return {
    id: 'read-timeline',
    title,
    target: on(primary),
    action: {
      kind: 'sql',
      sql: "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS timeline, pg_current_wal_lsn()::text AS lsn",
      params: [],
    },
    captures: [
      { name: 'timeline', column: 'timeline' },
      { name: 'lsn', column: 'lsn' },
    ],
    risk: 'read',
  };
}

/** After pg_promote: wait until it takes writes, checkpoint (pg_control lags otherwise), read its timeline. */
export function newPrimarySteps(
  primary: string,
  checkpointTitle: string,
  timelineTitle?: string,
): StepTemplate[] {
  return [
    {
      id: 'is-primary',
      title: 'Wait until the new primary accepts writes',
      target: on(primary),
      action: {
        kind: 'wait-until',
        probe: { kind: 'sql', sql: 'SELECT NOT pg_is_in_recovery() AS ok', params: [] },
        until: isTrue(),
        intervalMs: 100,
        timeoutMs: 120_000,
      },
      risk: 'read',
    },
    {
      id: 'checkpoint',
      title: checkpointTitle,
      target: on(primary),
      action: { kind: 'sql', sql: 'CHECKPOINT', params: [] },
      risk: 'write',
    },
    timelineTitle ? readTimelineStep(primary, timelineTitle) : readTimelineStep(primary),
  ];
}
