import type { Runbook } from '../../../runbook/types';
import {
  archivingSteps,
  canarySteps,
  followingChecklist,
  isTrue,
  on,
  rebuildSteps,
  repointStep,
  newPrimarySteps,
} from './steps';

/**
 * Seed 003 A.2 on PostgreSQL 15 (SYSTEMS.md §2.4): fence the old primary, let the candidate
 * replay all it received, promote it, make sure it archives, bring every other standby to it
 * (repoint, or pg_rewind when it is past the fork point), and prove it with a canary row.
 */
export const postgresFailover: Runbook = {
  name: 'postgres-failover',
  flavour: 'postgres-streaming',
  title: 'Fail over to the best standby',
  source: '003_7036779b36b4e546.txt (A.2, A.3.1.1)',
  target: 'none',
  steps: [
    {
      id: 'allow-data-loss',
      title: 'Accept losing up to ${lossBytes} bytes of committed data (refused: ${refusals})',
      target: on('data-loss-gate'),
      action: { kind: 'noop' },
      risk: 'destructive',
      gate: 'allow-data-loss',
    },
    {
      id: 'fence-old-primary',
      title: 'Fence the old primary: stop it so it cannot come back as primary',
      target: on('old-primary'),
      action: { kind: 'service', operation: 'stop' },
      risk: 'destructive',
      gate: 'fence',
    },
    {
      id: 'resume-replay',
      title: 'Resume WAL replay on the candidate (a paused replay would lose what it holds)',
      target: on('candidate'),
      action: { kind: 'sql', sql: 'SELECT pg_wal_replay_resume()', params: [] },
      risk: 'write',
    },
    {
      id: 'replayed-all',
      title: 'Wait until the candidate has replayed all the WAL it received',
      target: on('candidate'),
      action: {
        kind: 'wait-until',
        probe: {
          kind: 'sql',
          sql: 'SELECT coalesce(pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn(), true) AS ok',
          params: [],
        },
        until: isTrue(),
        intervalMs: 200,
        timeoutMs: 600_000,
      },
      risk: 'read',
    },
    {
      id: 'promote',
      title: 'Promote the candidate to primary',
      target: on('candidate'),
      action: { kind: 'sql', sql: 'SELECT pg_promote(true, 60) AS promoted', params: [] },
      check: isTrue('promoted'),
      risk: 'destructive',
      gate: 'promote',
    },
    ...newPrimarySteps('candidate', 'Checkpoint, so the new timeline is on disk'),
    ...archivingSteps('candidate'),
    repointStep('repoint-standbys'),
    ...rebuildSteps('rewind-standbys', 'rewind', 'candidate').map((s) => ({
      ...s,
      id: `${s.id}-past-fork`,
      gate: s.gate && 'rewind',
    })),
    followingChecklist('read-timeline'),
    ...canarySteps(),
  ],
};
