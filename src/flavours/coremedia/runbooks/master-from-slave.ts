import {
  copyKeyFrom,
  dropSchema,
  readLastChangelog,
  restoreFrom,
  startService,
  stopService,
} from './common-steps';
import { updateOnInSync, updateReplicatorRow, type ReplicatorProperty } from './in-sync-replicator-settings';
import type { Runbook, StepTemplate } from '../../../runbook/types';

const MASTER = { kind: 'master' } as const;
const DEDICATED = { kind: 'dedicated-slave' } as const;
const TO_RESTORE = { kind: 'each-to-restore' } as const;
/** Seed step 9 on every slave with another number: stop, drop, restore, approved together. */
const RESTORE_SLAVES = { gate: 'restore-slaves', independent: true };

/** Seed 000 step 9 reads "step 8" on each restored slave: the UPDATEs take that slave's own changelog row. */
const updateOnRestored = (property: ReplicatorProperty, capture: 'sequenceno' | 'idtag'): StepTemplate =>
  updateReplicatorRow(property, {
    id: `set-restored-${property.replace('_', '-')}`,
    title: `Set ${property} on every restored slave (from its own last changelog entry)`,
    target: TO_RESTORE,
    value: { capture, step: 'read-restored-changelog', node: 'same' },
    gate: 'restored-replicator-settings',
  });

/**
 * Seed 000, "Fast Recovery with Slave Live Server's backup": the master and every slave with
 * another sequence number (or an inconsistent ReplicatorIdTable) are restored from the dedicated
 * slave's backup, the in-sync slaves are pointed at the restored master's last changelog entry.
 *
 * Approval gates (clicks): stop-master, restore-master, replicator-settings, restore-slaves,
 * restored-replicator-settings; a gate covers every node of its steps.
 */
export const masterFromSlave: Runbook = {
  name: 'master-from-slave',
  flavour: 'coremedia',
  title: "Restore the master (and the slaves not in sync) from the dedicated slave's backup",
  source: '000_f77c06dcedba2dfe.txt',
  target: 'none',
  reportsReplay: true,
  steps: [
    stopService('stop-master', 'Stop the Master Live Server', MASTER, { gate: 'stop-master' }),
    {
      id: 'read-slave-sequences',
      title: 'Take the current sequence number of every Slave Live Server',
      target: { kind: 'each-slave' },
      action: { kind: 'sql', sql: "SELECT * FROM {{system}} WHERE property='replicator_remote'", params: [] },
      risk: 'read',
      independent: true,
    },
    {
      // Planned on a consistent slave; if it turned inconsistent since, the run stops here.
      id: 'check-dedicated-consistent',
      title: 'Check the dedicated Slave Live Server is consistent (ReplicatorIdTable empty)',
      target: DEDICATED,
      action: { kind: 'sql', sql: 'SELECT * from {{ReplicatorIdTable}}', params: [] },
      risk: 'read',
      check: { kind: 'row-count', max: 0 },
    },
    copyKeyFrom(
      'copy-key-to-master',
      "Copy the dedicated slave's Rijndael key to the master (renamed to the master's database and user)",
      MASTER,
      DEDICATED,
    ),
    copyKeyFrom(
      'copy-key-to-restore',
      "Copy the dedicated slave's Rijndael key to every slave to restore",
      TO_RESTORE,
      DEDICATED,
      { independent: true },
    ),
    dropSchema('drop-master-schema', 'Delete the full Master Live Server database schema', MASTER, {
      gate: 'restore-master',
    }),
    // The dump is an online backup (pg_dump snapshot, mysqldump --single-transaction): the
    // dedicated slave "needs not to be stopped".
    restoreFrom(
      'restore-master',
      "Import the dedicated slave's backup into the Master Live Server database",
      MASTER,
      DEDICATED,
      { gate: 'restore-master' },
    ),
    readLastChangelog(
      'read-master-changelog',
      'On the Master Live Server, fetch the last changelog entry (note sequenceno and idtag)',
      { kind: 'master' },
    ),
    updateOnInSync('replicator_remote', 'sequenceno'),
    updateOnInSync('replicator_local', 'sequenceno'),
    updateOnInSync('replicator_tag', 'idtag'),
    // Seed step 9: "execute the steps 5., 6., and 8." on every slave with another number.
    stopService('stop-restored-slave', 'Stop every Slave Live Server to restore', TO_RESTORE, RESTORE_SLAVES),
    dropSchema(
      'drop-restored-schema',
      'Delete the full database schema of every Slave Live Server to restore',
      TO_RESTORE,
      RESTORE_SLAVES,
    ),
    restoreFrom(
      'restore-slave',
      "Import the dedicated slave's backup into every Slave Live Server to restore",
      TO_RESTORE,
      DEDICATED,
      RESTORE_SLAVES,
    ),
    {
      ...readLastChangelog(
        'read-restored-changelog',
        'On every restored slave, fetch its last changelog entry (note sequenceno and idtag)',
        TO_RESTORE,
      ),
      independent: true,
    },
    updateOnRestored('replicator_remote', 'sequenceno'),
    updateOnRestored('replicator_local', 'sequenceno'),
    updateOnRestored('replicator_tag', 'idtag'),
    startService('start-master', 'Restart the Master Live Server', MASTER),
    startService('start-restored-slave', 'Restart every restored Slave Live Server', TO_RESTORE, {
      independent: true,
    }),
  ],
};
