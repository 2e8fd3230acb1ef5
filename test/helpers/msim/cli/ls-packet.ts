import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client } from 'pg';
import type { Args } from './args';
import type { HostConfig } from './host-config';
import { listPackets, missingPredecessors, readPacket, sentDate, type Packet } from './packet';
import type { Print } from './sync-export';
import { matrix, selfRow, type Row } from './store';

function ranges(packet: Packet): string {
  const by = new Map<string, number[]>();
  for (const op of packet.ops) by.set(op.origin, [...(by.get(op.origin) ?? []), op.oid]);
  if (by.size === 0) return 'none';
  return [...by].map(([o, ids]) => `${o} ${Math.min(...ids)}-${Math.max(...ids)}`).join('; ');
}

/**
 * lspacket [-long|-short] [pnames]: default = every storage bay on this host. Lines as the CQ
 * doc lists them (`Multiutil: Packet `path':`, Type, Sent, From NAME (GUID), Clan, Recipients,
 * Family); a recipient followed by `*` can be imported here now (ClearCase convention, used in
 * both dialects). -long adds the oplog ids, the recovery incarnation and the restoration flags.
 */
export async function lsPacket(
  config: HostConfig,
  client: () => Promise<Client>,
  args: Args,
  print: Print,
  printErr: Print,
): Promise<number> {
  const prefix = config.dialect === 'clearquest' ? 'Multiutil' : 'Multitool';
  const incoming = resolve(join(config.bay, 'incoming'));
  const paths =
    args.positionals.length > 0
      ? args.positionals.flatMap((p) => (statSync(p).isDirectory() ? listPackets(p) : [{ path: p }]))
      : [...listPackets(join(config.bay, 'incoming')), ...listPackets(join(config.bay, 'outgoing'))];
  let exit = 0;
  let own: { name: string; row: Row; imported: Set<string> } | undefined;
  for (const { path } of paths) {
    let packet: Packet;
    try {
      packet = readPacket(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // imported meanwhile
      exit = 1;
      printErr(`${prefix}: Error: Packet \`${path}' is unreadable: ${(err as Error).message}`);
      continue;
    }
    if (args.flags.short) {
      print(path);
      continue;
    }
    const h = packet.header;
    let importable: string | undefined;
    if (resolve(path).startsWith(incoming) && h.recipients.includes(config.replica)) {
      if (!own) {
        const c = await client();
        const self = await selfRow(c);
        const { rows } = await c.query<{ id: string }>('SELECT id FROM imported_packet');
        own = {
          name: self.name,
          row: (await matrix(c))[self.name] ?? {},
          imported: new Set(rows.map((r) => r.id)),
        };
      }
      const missing = missingPredecessors(packet, own.row);
      importable = own.imported.has(h.id)
        ? 'already imported'
        : missing.length > 0
          ? `no (waiting for earlier operations from ${missing.join(', ')})`
          : 'yes';
    }
    print(`${prefix}: Packet \`${path}':`);
    print(`  Type: ${h.type}`);
    print(`  Sent: ${sentDate(h.sent)}`);
    print(`  From: ${h.from} (${h.fromGuid})`);
    print(`  Clan: ${h.clan}`);
    print(
      `  Recipients: ${h.recipients.map((r) => (importable === 'yes' && r === config.replica ? `${r}*` : r)).join(' ')}`,
    );
    print(`  Family: ${h.family}`);
    if (!args.flags.long) continue;
    print(`  Part: ${h.part.replace('/', ' of ')}`);
    print(`  Created at replica: ${h.from}`);
    print(`  Recovery incarnation: ${h.incarnation}`);
    print(`  Restoration request: ${h.restorationRequest ? 'yes' : 'no'}`);
    if (h.ackFor)
      print(`  Acknowledges restoration of: ${h.ackFor} (recovery incarnation ${h.ackIncarnation})`);
    print(`  Oplog IDs: ${ranges(packet)}`);
    if (importable) print(`  Importable: ${importable}`);
  }
  return exit;
}
