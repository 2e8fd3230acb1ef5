import type { StepTemplate } from '../../../runbook/types';
import { equals, on, SEQNO, sh } from './parts';
import { CAUGHT_UP } from './scripts';

/** After recover: a canary row written on the primary reaches the replica, and it catches up. */
export function verifySteps(): StepTemplate[] {
  return [
    {
      id: 'canary-table',
      title: 'Make sure the canary table exists on the primary',
      target: on('primary'),
      action: {
        kind: 'sql',
        sql: 'CREATE TABLE IF NOT EXISTS {{recover_canary}} (id BIGINT AUTO_INCREMENT PRIMARY KEY, token VARCHAR(64) NOT NULL, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))',
        params: [],
      },
      risk: 'write',
    },
    {
      id: 'canary-token',
      title: 'Make a fresh canary token',
      target: on('primary'),
      action: {
        kind: 'command',
        argv: ['cat', '/proc/sys/kernel/random/uuid'],
        where: 'host',
        timeoutMs: 30_000,
        outputs: [{ name: 'token', pattern: '^([0-9a-f-]{36})$' }],
      },
      risk: 'read',
    },
    {
      // A literal value, not UUID(): a deterministic statement replicates in any binlog format.
      id: 'canary-write',
      title: 'Write the canary row on the primary',
      target: on('primary'),
      action: {
        kind: 'sql',
        sql: 'INSERT INTO {{recover_canary}} (token) VALUES (?)',
        params: [{ capture: 'token', step: 'canary-token', node: 'same' }],
      },
      risk: 'write',
      check: { kind: 'affected-rows', equals: 1 },
    },
    {
      id: 'canary-visible',
      title: 'Wait until the canary row is on the restored replica',
      target: on('target'),
      action: {
        kind: 'wait-until',
        probe: {
          kind: 'sql',
          sql: 'SELECT COUNT(*) > 0 AS ok FROM {{recover_canary}} WHERE token = ?',
          params: [{ capture: 'token', step: 'canary-token', node: 'single' }],
        },
        until: { kind: 'column-true', column: 'ok' },
        intervalMs: 500,
        timeoutMs: 300_000,
        timeoutMessage: 'the canary row did not reach ${node.name}: replication is not flowing',
      },
      risk: 'read',
    },
    {
      id: 'primary-seqno',
      title: "Read the primary's last seqno",
      target: on('primary'),
      action: {
        kind: 'command',
        argv: ['${node.binDir}/trepctl', '-service', '${service}', 'status'],
        where: 'host',
        timeoutMs: 60_000,
        outputs: [{ name: 'seqno', pattern: '^appliedLastSeqno\\s*:\\s*(\\d+)' }],
      },
      risk: 'read',
    },
    {
      id: 'caught-up',
      title: "Wait until the replica has applied the primary's last seqno",
      target: on('target'),
      action: {
        kind: 'wait-until',
        probe: {
          ...sh(
            CAUGHT_UP,
            'caught-up',
            ['${node.binDir}', '${service}', '${capture:primary-seqno.seqno}'],
            30_000,
          ),
          captureFormats: { seqno: SEQNO },
          outputs: [{ name: 'caught', pattern: '^caught-up: (yes|no)' }],
        },
        until: equals('caught', 'yes'),
        intervalMs: 500,
        timeoutMs: 300_000,
        timeoutMessage: '${node.name} did not catch up with the primary',
      },
      risk: 'read',
    },
  ];
}
