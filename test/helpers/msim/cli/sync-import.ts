import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Client } from 'pg';
import type { Args } from './args';
import { takeFault } from './faults';
import type { HostConfig } from './host-config';
import * as msg from './messages';
import { listPackets, missingPredecessors, PacketError, readPacket, type Packet } from './packet';
import type { Print } from './sync-export';
import { applyOp, inTransaction, matrix, selfRow, setRow } from './store';

interface Pending {
  path: string;
  packet: Packet;
}

type Outcome =
  | { kind: 'applied'; applied: number; present: number; notes: string[] }
  | { kind: 'duplicate' }
  | { kind: 'waiting'; missing: string[] };

/**
 * syncreplica -import (-receive | pnames): applies packets in dependency order whatever the
 * command-line order, each in one transaction; a packet already imported is a no-op; a packet
 * whose predecessor has not arrived waits in the bay; a corrupt packet is moved aside with an
 * error and changes nothing. Safe to re-run after being killed: the file goes after the commit.
 */
export async function syncImport(
  config: HostConfig,
  client: Client,
  args: Args,
  print: Print,
): Promise<number> {
  const tool = msg.toolName(config);
  const incoming = join(config.bay, 'incoming');
  const files =
    args.flags.receive || args.positionals.length === 0 ? listPackets(incoming) : expand(args.positionals);
  const self = await selfRow(client);
  let exit = 0;
  let pending: Pending[] = [];
  for (const f of files) {
    try {
      const packet = readPacket(f.path);
      if (packet.header.family !== config.family || !packet.header.recipients.includes(self.name)) {
        print(`${tool}: Warning: Packet ${f.path} is not addressed to replica "${self.name}"; skipped`);
        continue;
      }
      pending.push({ path: f.path, packet });
    } catch (err) {
      if (gone(err)) continue; // imported and removed by a concurrent import of this replica
      if (!(err instanceof PacketError) && !(err instanceof SyntaxError)) throw err;
      exit = 1;
      const rejected = join(dirname(f.path), 'rejected');
      mkdirSync(rejected, { recursive: true });
      try {
        renameSync(f.path, join(rejected, basename(f.path)));
      } catch (e) {
        if (!gone(e)) throw e;
      }
      print(
        `${tool}: Error: Packet ${f.path} is corrupt (${err.message}); nothing imported from it; moved to ${rejected}`,
      );
    }
  }
  const waiting = new Map<string, string[]>();
  for (let progress = true; progress && pending.length > 0;) {
    progress = false;
    const still: Pending[] = [];
    for (const p of pending) {
      const outcome = await importOne(config, client, p.packet);
      if (outcome.kind === 'waiting') {
        waiting.set(p.path, outcome.missing);
        still.push(p);
        continue;
      }
      progress = true;
      waiting.delete(p.path);
      if (outcome.kind === 'applied' && takeFault(config.faultsFile, ['killImport']))
        process.kill(process.pid, 'SIGKILL'); // committed, file still in the bay: a re-run must cope
      if (resolve(dirname(p.path)) === resolve(incoming)) rmSync(p.path, { force: true });
      if (outcome.kind === 'duplicate') print(`Packet ${p.path} was already imported; ignored`);
      else {
        const where = config.dialect === 'clearcase' ? `VOB ${config.vob}` : `replica "${self.name}"`;
        print(
          `Applied sync. packet ${p.path} to ${where} (${outcome.applied} new operations, ${outcome.present} already present)`,
        );
        for (const note of outcome.notes) print(note);
      }
    }
    pending = still;
  }
  for (const [path, missing] of waiting)
    print(
      `${tool}: Warning: Packet ${path} cannot be imported yet: it needs earlier operations from ${missing
        .map((m) => `"${m}"`)
        .join(', ')} that have not arrived`,
    );
  return exit;
}

const gone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

function expand(pnames: string[]): { path: string }[] {
  return pnames.flatMap((p) => (statSync(p).isDirectory() ? listPackets(p) : [{ path: p }]));
}

async function importOne(config: HostConfig, client: Client, packet: Packet): Promise<Outcome> {
  const h = packet.header;
  return inTransaction(client, async () => {
    const seen = await client.query('SELECT 1 FROM imported_packet WHERE id = $1', [h.id]);
    if (seen.rowCount) return { kind: 'duplicate' };
    const self = await selfRow(client);
    const m = await matrix(client);
    const missing = missingPredecessors(packet, m[self.name] ?? {});
    if (missing.length > 0) return { kind: 'waiting', missing };
    let applied = 0;
    for (const op of packet.ops) if (await applyOp(client, self.name, op)) applied++;
    const notes: string[] = [];
    if (h.restorationRequest) {
      // The sender was restored from backup: believe its own row (roll ours back) and owe it an ack.
      await setRow(client, h.from, h.senderRow);
      await client.query(`UPDATE replica SET incarnation = $2 WHERE name = $1`, [h.from, h.incarnation]);
      await client.query(
        `UPDATE replica SET owes_ack_to = array_append(array_remove(owes_ack_to, $1), $1) WHERE is_self`,
        [h.from],
      );
      notes.push(
        `Restoration request from "${h.from}" (recovery incarnation ${h.incarnation}): its row was rolled back; an acknowledgement will be sent with the next export to it`,
      );
    } else {
      const known = m[h.from] ?? {};
      const raised = Object.fromEntries(
        Object.entries(h.senderRow).map(([o, n]) => [o, Math.max(n, known[o] ?? 0)]),
      );
      await setRow(client, h.from, raised);
      await client.query(`UPDATE replica SET owes_ack_to = array_remove(owes_ack_to, $1) WHERE is_self`, [
        h.from,
      ]);
    }
    if (h.ackFor === self.name && self.restoring && h.ackIncarnation === self.incarnation) {
      const left = self.must_hear_from.filter((r) => r !== h.from);
      if (left.length > 0) {
        await client.query('UPDATE replica SET must_hear_from = $1 WHERE is_self', [left]);
        notes.push(
          `Restoration acknowledgement received from "${h.from}"; still waiting for: ${left.join(', ')}`,
        );
      } else {
        const cq = config.dialect === 'clearquest';
        // CQ unlocks itself; ClearCase leaves the VOB lock to `cleartool unlock vob:<tag>`.
        await client.query(
          `UPDATE replica SET must_hear_from = '{}', restoring = false, locked = locked AND NOT $1 WHERE is_self`,
          [cq],
        );
        notes.push(`Restoration acknowledgement received from "${h.from}"`);
        notes.push(
          cq ? msg.unlockedAfterRestoration(config.family) : msg.ccRestorationComplete(self.name, config.vob),
        );
      }
    }
    await client.query('INSERT INTO imported_packet (id, sender) VALUES ($1, $2)', [h.id, h.from]);
    return { kind: 'applied', applied, present: packet.ops.length - applied, notes };
  });
}
