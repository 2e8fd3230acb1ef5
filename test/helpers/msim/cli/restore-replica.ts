import type { Client } from 'pg';
import { replicaName, type Args } from './args';
import { takeFault } from './faults';
import type { HostConfig } from './host-config';
import type { Print } from './sync-export';
import { inTransaction, MsimError, replicas, selfRow } from './store';

/**
 * restorereplica [-replace <replicas>]: lock the replica in the special restoration state,
 * raise its recovery incarnation and list the siblings it must hear from. Refuses a second run
 * while a restoration is in progress (the runbook must probe, never re-run blindly).
 */
export async function restoreReplica(
  config: HostConfig,
  client: Client,
  args: Args,
  print: Print,
): Promise<number> {
  for (const unsupported of ['force', 'override', 'completed'] as const)
    if (args.flags[unsupported]) throw new MsimError('unsupported', `msim does not simulate -${unsupported}`);
  const result = await inTransaction(client, async () => {
    const self = await selfRow(client);
    if (self.restoring)
      throw new MsimError(
        'already-restoring',
        `Replica "${self.name}" is already in restoration (recovery incarnation ${self.incarnation})`,
      );
    const siblings = (await replicas(client)).filter((r) => !r.is_self && !r.deleted).map((r) => r.name);
    let required = siblings;
    if (args.flags.replace) {
      // -replace narrows the set to the named replicas (sim-defined reading of the option).
      required = args.positionals.map((s) => replicaName(s, config));
      const unknown = required.filter((r) => !siblings.includes(r));
      if (unknown.length > 0) throw new MsimError('no-replica', `Not a sibling: ${unknown.join(', ')}`);
    }
    const { rows } = await client.query<{ incarnation: number }>(
      `UPDATE replica SET locked = true, restoring = true, incarnation = incarnation + 1, must_hear_from = $1
       WHERE is_self RETURNING incarnation`,
      [required],
    );
    return { name: self.name, incarnation: rows[0]!.incarnation, required };
  });
  const slow = takeFault(config.faultsFile, ['slowRestore']);
  if (slow?.kind === 'slowRestore') await new Promise((resolve) => setTimeout(resolve, slow.ms));
  print(`Replica "${result.name}" is locked for restoration (recovery incarnation ${result.incarnation}).`);
  print(`Restoration updates are required from: ${result.required.join(', ')}`);
  return 0;
}
