import type { Check, CommandSpec, Runbook, StepTemplate, TargetSpec } from '../../../runbook/types';
import {
  CAUGHT_UP,
  FIND_EVENT,
  PURGE_THL,
  READ_BACKUP_POSITION,
  READ_TREP,
  REPLICATOR_STATE,
  RESTORE,
} from './scripts';

const on = (kind: string): TargetSpec => ({ kind });
const equals = (name: string, value: string): Check => ({ kind: 'output-equals', name, value });
/** The whole output, for a rule to parse (it never reaches a shell). */
const whole = (name: string) => ({ name, pattern: '^([\\s\\S]*)$' });

type Cmd = { kind: 'command' } & CommandSpec;

const sh = (script: string, name: string, args: string[], timeoutMs = 60_000): Cmd => ({
  kind: 'command',
  argv: ['sh', '-c', script, name, ...args],
  where: 'host',
  timeoutMs,
});

/** cctrl reads its commands from stdin; the datasource name comes from the topology. */
const cctrl = (command: string): Cmd => ({
  kind: 'command',
  argv: ['${node.binDir}/cctrl', '-expert'],
  where: 'host',
  stdin: `${command}\nexit\n`,
  timeoutMs: 120_000,
});

const SEQNO = '\\d{1,19}';
const EVENT_ID = '[A-Za-z0-9_.-]+\\.\\d+:\\d{16}';
const SOURCE_ID = '[A-Za-z0-9][A-Za-z0-9_.-]{0,127}';

const waitState = (id: string, title: string, state: string, timeoutMs: number): StepTemplate => ({
  id,
  title,
  target: on('target'),
  action: {
    kind: 'wait-until',
    probe: {
      ...sh(REPLICATOR_STATE, 'state', ['${node.binDir}', '${service}'], 30_000),
      outputs: [{ name: 'state', pattern: '^state: (\\S+)' }],
    },
    until: equals('state', state),
    intervalMs: 500,
    timeoutMs,
    timeoutMessage: `the replicator of \${node.name} did not reach ${state}`,
  },
  risk: 'read',
});

/** Seed 004, "Restoring an External Backup", with every value the vendor leaves to the admin derived and checked. */
export const tungstenExternalRestore: Runbook = {
  name: 'tungsten-external-restore',
  flavour: 'tungsten',
  title: 'Restore a replica from an external backup',
  source: '004_46d8e42b8ad8b438.txt',
  target: 'slave',
  steps: [
    {
      id: 'shun',
      title: 'Shun the datasource (cctrl datasource ${node.datasource} shun)',
      target: on('target'),
      action: {
        ...cctrl('datasource ${node.datasource} shun'),
        outputs: [{ name: 'shunned', pattern: '(SHUNNED)' }],
      },
      risk: 'write',
    },
    {
      id: 'replicator-offline',
      title: 'Put its replicator offline (cctrl replicator ${node.datasource} offline)',
      target: on('target'),
      action: cctrl('replicator ${node.datasource} offline'),
      risk: 'write',
    },
    waitState('wait-offline', 'Wait until the replicator is OFFLINE:NORMAL', 'OFFLINE:NORMAL', 120_000),
    {
      id: 'purge-thl',
      title: 'Purge the THL of ${node.name} (only while OFFLINE:NORMAL)',
      target: on('target'),
      action: {
        ...sh(PURGE_THL, 'purge', ['${node.binDir}', '${service}'], 300_000),
        outputs: [{ name: 'purged', pattern: '(Deleting events[^\\n]*)' }],
      },
      risk: 'destructive',
      gate: 'purge-thl',
    },
    {
      id: 'restore',
      title: 'Restore ${node.name} from the ${backup.kind} at ${backup.path}',
      target: on('target'),
      action: sh(
        RESTORE,
        'restore',
        ['${node.binDir}', '${backup.kind}', '${backup.path}', '${backup.restore}'],
        6 * 3600_000,
      ),
      risk: 'destructive',
      gate: 'restore',
    },
    {
      id: 'read-backup-position',
      title: "Read the backup's binlog position",
      target: on('target'),
      action: {
        ...sh(READ_BACKUP_POSITION, 'position', ['${backup.kind}', '${backup.path}']),
        outputs: [{ name: 'backup', pattern: '^backup-position: (.*)$' }],
      },
      risk: 'read',
    },
    {
      id: 'read-trep',
      title: 'Read the restored trep_commit_seqno',
      target: on('target'),
      action: { ...sh(READ_TREP, 'trep', ['${node.binDir}', '${schema}']), outputs: [whole('trep')] },
      risk: 'read',
    },
    {
      id: 'compare',
      title: "Compare the restored trep_commit_seqno with the backup's position",
      target: on('target'),
      action: {
        kind: 'rule',
        rule: 'tungsten-compare-restore',
        args: {
          trep: '${capture:read-trep.trep}',
          backup: '${capture:read-backup-position.backup}',
          backupFrom: '${backup.from}',
        },
      },
      risk: 'read',
    },
    {
      id: 'thl-info',
      title: "Read the primary's THL range (thl info)",
      target: on('primary'),
      action: {
        argv: ['${node.binDir}/thl', '-service', '${service}', 'info'],
        where: 'host',
        timeoutMs: 60_000,
        kind: 'command',
        outputs: [whole('info')],
      },
      risk: 'read',
    },
    {
      id: 'find-event',
      title: "Find the event in the primary's THL (thl list -event … -headers)",
      target: on('primary'),
      action: {
        ...sh(FIND_EVENT, 'find-event', ['${node.binDir}', '${service}', '${capture:compare.lookupEvent}']),
        captureFormats: { lookupEvent: EVENT_ID },
        outputs: [whole('header')],
      },
      risk: 'read',
    },
    {
      id: 'reset-values',
      title: "Decide the reset from the primary's THL header only",
      target: on('primary'),
      action: {
        kind: 'rule',
        rule: 'tungsten-reset-values',
        args: {
          decision: '${capture:compare.decision}',
          lookupEvent: '${capture:compare.lookupEvent}',
          trepSeqno: '${capture:compare.trepSeqno}',
          trepEpoch: '${capture:compare.trepEpoch}',
          header: '${capture:find-event.header}',
          thlInfo: '${capture:thl-info.info}',
          primarySourceId: '${node.sourceId}',
        },
      },
      risk: 'read',
    },
    {
      id: 'dsctl-reset',
      title: "Reset the restart point (dsctl set -reset) to the values of the primary's THL",
      target: on('target'),
      action: {
        argv: [
          '${node.binDir}/dsctl',
          '-service',
          '${service}',
          'set',
          '-reset',
          '-seqno',
          '${capture:reset-values.seqno}',
          '-epoch',
          '${capture:reset-values.epoch}',
          '-source-id',
          '${capture:reset-values.sourceId}',
          '-event-id',
          '${capture:reset-values.eventId}',
        ],
        where: 'host',
        kind: 'command',
        timeoutMs: 60_000,
        captureFormats: { seqno: SEQNO, epoch: SEQNO, sourceId: SOURCE_ID, eventId: EVENT_ID },
        outputs: [{ name: 'position', pattern: 'position was set to: ([^\\n]*)' }],
      },
      risk: 'destructive',
      gate: 'dsctl-reset',
      when: { step: 'reset-values', capture: 'decision', equals: 'reset' },
    },
    {
      id: 'recover',
      title: 'Recover the datasource (cctrl datasource ${node.datasource} recover)',
      target: on('target'),
      action: {
        ...cctrl('datasource ${node.datasource} recover'),
        outputs: [{ name: 'recovery', pattern: "RECOVERY OF '[^']+' (WAS SUCCESSFUL|FAILED)" }],
      },
      check: equals('recovery', 'WAS SUCCESSFUL'),
      risk: 'write',
    },
    waitState('wait-online', 'Wait until the replicator is ONLINE', 'ONLINE', 300_000),
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
  ],
};
