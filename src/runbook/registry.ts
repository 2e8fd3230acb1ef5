import { inSyncReplicatorSettings } from '../flavours/coremedia/runbooks/in-sync-replicator-settings';
import { masterFromSlave } from '../flavours/coremedia/runbooks/master-from-slave';
import { slaveFromMaster } from '../flavours/coremedia/runbooks/slave-from-master';
import { slaveFromMasterSql } from '../flavours/coremedia/runbooks/slave-from-master-sql';
import type { Runbook } from './types';

/** Every built-in runbook by name. */
export const RUNBOOKS: Record<string, Runbook> = {
  [slaveFromMasterSql.name]: slaveFromMasterSql,
  [inSyncReplicatorSettings.name]: inSyncReplicatorSettings,
  [masterFromSlave.name]: masterFromSlave,
  [slaveFromMaster.name]: slaveFromMaster,
};

/** The runbook called `name`; undefined for anything else (including "constructor" and friends). */
export function getRunbook(name: string): Runbook | undefined {
  return Object.hasOwn(RUNBOOKS, name) ? RUNBOOKS[name] : undefined;
}

export function runbookNames(): string[] {
  return Object.keys(RUNBOOKS).sort();
}

/** The runbooks that apply to a topology of this flavour (offered under a status message). */
export function runbookNamesFor(flavour: string): string[] {
  return Object.values(RUNBOOKS)
    .filter((r) => r.flavour === flavour)
    .map((r) => r.name);
}
