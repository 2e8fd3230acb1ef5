import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import { replicaName, type Args } from './args';
import type { HostConfig } from './host-config';
import * as msg from './messages';
import { encodePacket, newPacketId, packetName, SHIPPING_ORDER_PREFIX, type Packet } from './packet';
import { ship, shippingOrderText } from './ship';
import { inTransaction, matrix, MsimError, opsAfter, replicas, selfRow, type Op, type Row } from './store';

export type Print = (line: string) => void;

let counter = 0;

/**
 * Export R→X: ops with origin Y and id > E_R[X][Y]; then E_R[X][*] := E_R[R][*] (assumption of
 * successful synchronization). While R is in restoration the packet carries the return-ack
 * request and R's own row; while R owes X an acknowledgement, the packet carries it (and R's
 * estimate of X stays where the restoration request put it).
 * The packet file is written before the commit and renamed into the bay after it.
 */
export async function exportTo(config: HostConfig, client: Client, dest: string): Promise<string> {
  const outgoing = join(config.bay, 'outgoing');
  const now = new Date();
  const name = packetName(dest, now, process.pid, ++counter);
  const part = join(outgoing, `.${name}.part`);
  await inTransaction(client, async () => {
    const self = await selfRow(client);
    const member = (await replicas(client)).find((r) => r.name === dest && !r.is_self && !r.deleted);
    if (!member) throw new MsimError('no-replica', `Replica "${dest}" is not a sibling of "${self.name}"`);
    const m = await matrix(client);
    const top = { ...(m[self.name] ?? {}) };
    const base = { ...(m[dest] ?? {}) };
    const ops = (await opsAfter(client, base)).filter((op) => op.oid <= (top[op.origin] ?? 0));
    const gap = firstGap(ops, base, top);
    if (gap)
      // sim-defined wording around the documented "Cannot find oplog entry": the entries the
      // receiver needs were scrubbed here, so this replica cannot bring it up to date.
      throw new MsimError(
        'oplog-scrubbed',
        `Cannot find oplog entry ${gap.oid} for replica "${gap.origin}" (scrubbed): cannot generate an update for "${dest}"`,
      );
    const owes = self.owes_ack_to.includes(dest);
    const packet: Packet = {
      header: {
        id: newPacketId(),
        type: 'UPDATE',
        from: self.name,
        fromGuid: self.guid,
        incarnation: self.incarnation,
        family: config.family,
        clan: config.clan,
        recipients: [dest],
        part: '1/1',
        sent: now.toISOString(),
        restorationRequest: self.restoring,
        ackFor: owes ? dest : null,
        ackIncarnation: owes ? await owedIncarnation(client, dest) : null,
        senderRow: top,
        base,
        top,
      },
      ops,
    };
    writeFileSync(part, encodePacket(packet));
    // sim-defined: while this replica owes `dest` a restoration acknowledgement it does not assume
    // delivery, so re-exporting after a lost ack packet sends the rolled-back ops again.
    if (!owes)
      for (const [origin, n] of Object.entries(top))
        await client.query(
          `INSERT INTO epoch (row_replica, origin, n) VALUES ($1, $2, $3)
         ON CONFLICT (row_replica, origin) DO UPDATE SET n = EXCLUDED.n`,
          [dest, origin, n],
        );
  });
  const path = join(outgoing, name);
  renameSync(part, path);
  return path;
}

/** The first op between base and top that the oplog no longer holds (scrubbed), if any. */
function firstGap(ops: Op[], base: Row, top: Row): { origin: string; oid: number } | undefined {
  const have = new Set(ops.map((op) => `${op.origin}\u0000${op.oid}`));
  for (const [origin, n] of Object.entries(top))
    for (let oid = (base[origin] ?? 0) + 1; oid <= n; oid++)
      if (!have.has(`${origin}\u0000${oid}`)) return { origin, oid };
  return undefined;
}

/** The incarnation of the restoration being acknowledged: the one last seen from that replica. */
async function owedIncarnation(client: Client, dest: string): Promise<number> {
  const { rows } = await client.query<{ incarnation: number }>(
    'SELECT incarnation FROM replica WHERE name = $1',
    [dest],
  );
  return rows[0]?.incarnation ?? 1;
}

/** syncreplica -export [-fship|-ship] <replicas>: generate, write shipping orders, deliver. */
export async function syncExport(
  config: HostConfig,
  client: Client,
  args: Args,
  print: Print,
): Promise<number> {
  const self = await selfRow(client);
  const named = args.positionals.map((s) => replicaName(s, config));
  const dests =
    named.length > 0
      ? named
      : (await replicas(client)).filter((r) => !r.is_self && !r.deleted).map((r) => r.name);
  const generated: { path: string; dest: string }[] = [];
  for (const dest of dests) {
    if (dest === self.name) throw new MsimError('usage', `Cannot export to the current replica "${dest}"`);
    const path = await exportTo(config, client, dest);
    const order = join(config.bay, 'outgoing', SHIPPING_ORDER_PREFIX + path.slice(path.lastIndexOf('/') + 1));
    writeFileSync(order, shippingOrderText(path, dest));
    print(msg.generating(path));
    print(msg.shippingOrder(order));
    generated.push({ path, dest });
  }
  if (!args.flags.fship) return 0; // -ship / default: the shipping server moves them (shipping_server -poll)
  print(msg.attempting);
  const results = await Promise.all(generated.map((g) => ship(config, g.path, g.dest)));
  let failed = 0;
  results.forEach((r, i) => {
    const g = generated[i]!;
    if (r.ok) print(msg.forwarded(g.path));
    else {
      failed++;
      print(msg.notForwarded(g.path, g.dest, r.reason ?? 'unknown'));
    }
  });
  // sim-defined: 2 = packets generated, not all delivered (they wait in the outgoing bay)
  return failed > 0 ? 2 : 0;
}
