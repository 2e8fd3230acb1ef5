import type { Runbook, StepTemplate } from '../../../runbook/types';
import { isTrue, on, settleSteps } from './steps';
import { cloneStep, switchoverSteps } from './switchover-steps';

const STREAMING =
  "SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS ok";

/** Same steps on another node set: ids get a suffix so each stays unique in the runbook. */
const suffixed = (steps: StepTemplate[], suffix: string, what: string): StepTemplate[] =>
  steps.map((s) => ({ ...s, id: `${s.id}-${suffix}`, title: `${s.title} (${what})` }));

/**
 * Seed 003 A.3.2–A.3.7 "Bootstrapping and promoting a new data center" on PostgreSQL 15
 * (SYSTEMS.md §2.3 WAN rule, §2.4): --target is the new data center's first node. It is seeded
 * across the WAN ONCE (pg_basebackup -R, --max-rate from the topology, the estimated transfer
 * time in the plan), the other nodes of its data center are cloned from it locally and stream
 * from it (cascade: the WAN carries the WAL once), then the "artificial failover" is a
 * zero-loss switchover to it and the old acting master rejoins as a standby (pg_rewind -R).
 * The seed copies the snapshot over the WAN to every new node; this copies it once.
 */
export const postgresNewDatacenter: Runbook = {
  name: 'postgres-new-datacenter',
  flavour: 'postgres-streaming',
  title: 'Bootstrap a new data center and switch over to it',
  source: '003_7036779b36b4e546.txt (A.3.2 to A.3.7)',
  target: 'any',
  steps: [
    cloneStep(
      'seed-first',
      'Base backup of ${target.name} from ${source.name} across the WAN, once: ${wanEstimate}',
      'new-dc-first',
      'source',
      '${maxRate}',
      'seed-new-dc',
    ),
    ...suffixed(settleSteps('new-dc-first'), 'first', 'first new node'),
    {
      id: 'first-streaming',
      title: 'Wait until the first new node streams from the primary',
      target: on('new-dc-first'),
      action: {
        kind: 'wait-until',
        probe: { kind: 'sql', sql: STREAMING, params: [] },
        until: isTrue(),
        intervalMs: 500,
        timeoutMs: 600_000,
      },
      risk: 'read',
    },
    // Inside the new data center: no WAN traffic, so no --max-rate (a base backup from a standby).
    cloneStep(
      'clone-others',
      'Clone the node locally from ${target.name} (no WAN traffic); it will stream from ${target.name}',
      'new-dc-others',
      'target',
      '',
      'clone-new-dc',
    ),
    ...suffixed(settleSteps('new-dc-others'), 'others', 'cloned node'),
    {
      id: 'others-streaming',
      title: 'The other new nodes stream (cascading from the first new node)',
      target: on('new-dc-first'),
      action: {
        kind: 'checklist',
        each: on('new-dc-others'),
        title: 'streaming',
        probe: { kind: 'sql', sql: STREAMING, params: [] },
        until: isTrue(),
        intervalMs: 500,
        timeoutMs: 600_000,
      },
      risk: 'read',
    },
    ...switchoverSteps('new-dc-followers'),
  ],
};
