import type { Client } from 'pg';
import type { Args } from './args';
import type { HostConfig } from './host-config';
import type { Print } from './sync-export';
import { inTransaction, MsimError, selfRow } from './store';

function vobOf(config: HostConfig, args: Args): string {
  const target = args.positionals[0] ?? `vob:${config.vob}`;
  const vob = target.replace(/^vob:/, '');
  if (vob !== config.vob) throw new MsimError('no-vob', `Unable to find VOB "${vob}"`);
  return vob;
}

/**
 * cleartool stubs for the ClearCase steps: lslock, unlock (refused while the restoration still
 * waits for acknowledgements) and checkvob (refused once the replica is in restoration, as the
 * VersionVault doc says it cannot be interrupted for it). Texts are sim-defined.
 */
export async function cleartool(
  config: HostConfig,
  client: Client,
  sub: string,
  args: Args,
  print: Print,
): Promise<number> {
  const vob = vobOf(config, args);
  const self = await selfRow(client);
  switch (sub) {
    case 'lslock':
      if (self.locked)
        print(
          `${new Date().toISOString()}  msim  lock versioned object base "${vob}" (locked)` +
            (self.restoring ? ' for MultiSite restoration' : ''),
        );
      return 0;
    case 'unlock':
      await inTransaction(client, async () => {
        const now = await selfRow(client);
        if (now.restoring)
          throw new MsimError(
            'restoring',
            `VOB "${vob}" is in MultiSite restoration; still waiting for: ${now.must_hear_from.join(', ')}`,
          );
        if (!now.locked)
          throw new MsimError('not-locked', `Object is not locked: versioned object base "${vob}"`);
        await client.query('UPDATE replica SET locked = false WHERE is_self');
      });
      print(`Unlocked versioned object base "${vob}".`);
      return 0;
    case 'checkvob':
      if (self.restoring)
        throw new MsimError('restoring', `VOB "${vob}" is in MultiSite restoration; checkvob refused`);
      print(`checkvob: no problems found in VOB "${vob}"`);
      return 0;
    default:
      throw new MsimError('usage', `Unknown command: "${sub}"`);
  }
}
