import { copyKeyFrom, dropSchema, restoreFrom, startService, stopService } from './common-steps';
import { slaveFromMasterSqlSteps } from './slave-from-master-sql';
import type { Runbook } from '../../../runbook/types';

/**
 * Seed 001, "restore a Slave Live Server database from a Master Live Server backup", for the
 * --target slave: stop it, copy the master's key, replace its schema with the master's backup,
 * then the SQL of `slave-from-master-sql`, and start it again.
 *
 * The seed's "if the database does not allow online backups, freeze publications / stop the
 * master" does not apply: our dumps are online backups (pg_dump takes one snapshot, mysqldump
 * runs with --single-transaction), so the master keeps running and nothing needs restarting.
 */
const TARGET = { kind: 'target' } as const;
const MASTER = { kind: 'master' } as const;

export const slaveFromMaster: Runbook = {
  name: 'slave-from-master',
  flavour: 'coremedia',
  title: "Restore a slave from the master's backup",
  source: '001_e64b92dbc0342d9e.txt',
  target: 'slave',
  steps: [
    stopService('stop-slave', 'Stop the Slave Live Server', TARGET, { gate: 'stop-slave' }),
    copyKeyFrom(
      'copy-key',
      "Copy the master's Rijndael key to the slave (renamed to the slave's database and user)",
      TARGET,
      MASTER,
    ),
    dropSchema('drop-schema', 'Delete the full Slave Live Server database schema', TARGET, {
      gate: 'restore-slave',
    }),
    restoreFrom(
      'restore',
      "Restore the Slave Live Server database with the master's backup",
      TARGET,
      MASTER,
      {
        gate: 'restore-slave',
      },
    ),
    ...slaveFromMasterSqlSteps,
    startService('start-slave', 'Restart the Slave Live Server', TARGET),
  ],
};
