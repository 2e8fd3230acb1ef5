import { slaveFromMasterSqlSteps } from './slave-from-master-sql';
import type { Runbook } from './types';

/**
 * Seed 001, "restore a Slave Live Server database from a Master Live Server backup", for the
 * --target slave: stop it, copy the master's key, replace its schema with the master's backup,
 * then the SQL of `slave-from-master-sql`, and start it again.
 *
 * The seed's "if the database does not allow online backups, freeze publications / stop the
 * master" does not apply: our dumps are online backups (pg_dump takes one snapshot, mysqldump
 * runs with --single-transaction), so the master keeps running and nothing needs restarting.
 */
export const slaveFromMaster: Runbook = {
  name: 'slave-from-master',
  flavour: 'coremedia',
  title: "Restore a slave from the master's backup",
  source: '001_e64b92dbc0342d9e.txt',
  target: 'slave',
  steps: [
    {
      id: 'stop-slave',
      title: 'Stop the Slave Live Server',
      target: { kind: 'target' },
      action: { kind: 'service', operation: 'stop' },
      risk: 'destructive',
      gate: 'stop-slave',
    },
    {
      id: 'copy-key',
      title: "Copy the master's Rijndael key to the slave (renamed to the slave's database and user)",
      target: { kind: 'target' },
      action: { kind: 'file-copy', from: { kind: 'master' }, file: 'rijndael-key' },
      risk: 'write',
    },
    {
      id: 'drop-schema',
      title: 'Delete the full Slave Live Server database schema',
      target: { kind: 'target' },
      action: { kind: 'drop-schema' },
      risk: 'destructive',
      gate: 'restore-slave',
    },
    {
      id: 'restore',
      title: "Restore the Slave Live Server database with the master's backup",
      target: { kind: 'target' },
      action: { kind: 'dump-restore', from: { kind: 'master' } },
      risk: 'destructive',
      gate: 'restore-slave',
    },
    ...slaveFromMasterSqlSteps,
    {
      id: 'start-slave',
      title: 'Restart the Slave Live Server',
      target: { kind: 'target' },
      action: { kind: 'service', operation: 'start' },
      risk: 'write',
    },
  ],
};
