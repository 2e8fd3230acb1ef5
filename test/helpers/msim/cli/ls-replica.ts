import type { Client } from 'pg';
import type { Args } from './args';
import type { HostConfig } from './host-config';
import type { Print } from './sync-export';
import { replicas, selfRow } from './store';

/**
 * lsreplica [-long] (sim-defined layout, one `key: value` per line under `replica "name"`). The
 * restoration debt shows twice: on the restoring replica ("awaiting restoration update from")
 * and on each sibling that still owes it ("owes restoration update to").
 */
export async function lsReplica(
  config: HostConfig,
  client: Client,
  args: Args,
  print: Print,
): Promise<number> {
  const all = await replicas(client);
  const self = await selfRow(client);
  if (config.dialect === 'clearcase') print(`For VOB replica "${config.vob}":`);
  else print(`For family "${config.family}" at replica "${self.name}":`);
  for (const r of all) {
    print(`replica "${r.name}"`);
    if (!args.flags.long) continue;
    print(`  guid: ${r.guid}`);
    print(`  host: "${r.host}"`);
    if (r.is_self) {
      print('  current replica: yes');
      print(`  locked: ${r.locked ? 'yes' : 'no'}`);
      print(`  restoring: ${r.restoring ? 'yes' : 'no'}`);
      print(`  recovery incarnation: ${r.incarnation}`);
      if (r.must_hear_from.length > 0)
        print(`  awaiting restoration update from: ${r.must_hear_from.map((n) => `"${n}"`).join(', ')}`);
      if (r.owes_ack_to.length > 0)
        print(`  owes restoration acknowledgement to: ${r.owes_ack_to.map((n) => `"${n}"`).join(', ')}`);
    } else {
      if (r.deleted) print('  deleted: yes');
      if (self.must_hear_from.includes(r.name)) print(`  owes restoration update to: "${self.name}"`);
    }
  }
  return 0;
}
