import type { Runbook } from '../../../runbook/types';
import { isTrue, on, rebuildSteps } from './steps';

/**
 * Rebuild a standby (or an old primary) from the current primary: pg_rewind when its history
 * allows, else a fresh pg_basebackup -R (seed 003 A.1.5/A.1.6 "slave bootstrap"); then it must
 * stream. The old primary of a failover rejoins only this way, never as a primary.
 */
export const postgresRebuildStandby: Runbook = {
  name: 'postgres-rebuild-standby',
  flavour: 'postgres-streaming',
  title: 'Rebuild a standby from the primary',
  source: '003_7036779b36b4e546.txt (A.3.5, A.3.6)',
  target: 'any',
  steps: [
    {
      id: 'checkpoint-primary',
      title: 'Checkpoint the primary, so pg_rewind reads its current timeline',
      target: on('primary'),
      // pg_rewind takes the source's timeline from pg_control, which still says the old one after
      // a promotion until a checkpoint: it then answers "no rewind required" and the node, past
      // the fork, never streams (measured on PostgreSQL 15 when the promotion was not Recover's).
      action: { kind: 'sql', sql: 'CHECKPOINT', params: [] },
      risk: 'write',
    },
    ...rebuildSteps('target', 'rewind-or-clone', 'source'),
    {
      id: 'streaming',
      title: 'Wait until the rebuilt standby streams from the primary',
      target: on('target'),
      action: {
        kind: 'wait-until',
        probe: {
          kind: 'sql',
          sql: "SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS ok",
          params: [],
        },
        until: isTrue(),
        // Streams within about a second of its start; one cheap query per check.
        intervalMs: 100,
        timeoutMs: 600_000,
      },
      risk: 'read',
    },
  ],
};
