/**
 * `syncreplica -export` / `-import` output: the packets made and shipped (lines verbatim from the
 * docs, SYSTEMS.md §1.6) and the line that ends a restoration.
 */
export interface SyncExport {
  packets: string[];
  shippingOrders: string[];
  delivered: string[];
}

export interface SyncImport {
  /** `Database <name> is unlocked after restoration.` */
  unlockedDatabase: string | null;
  errors: string[];
}

export function parseSyncExport(text: string): SyncExport {
  const out: SyncExport = { packets: [], shippingOrders: [], delivered: [] };
  for (const line of text.split('\n')) {
    const gen = /Generating synchronization packet\s+(\S+)/.exec(line);
    if (gen) out.packets.push(gen[1]!);
    const order = /-\s*shipping order file is\s+(\S+)/.exec(line);
    if (order) out.shippingOrders.push(order[1]!);
    const fwd = /--\s*Forwarded\/delivered packet\s+(\S+)/.exec(line);
    if (fwd) out.delivered.push(fwd[1]!);
  }
  return out;
}

export const UNLOCKED_LINE = /Database (\S+) is unlocked after restoration\./;

export function parseSyncImport(text: string): SyncImport {
  const unlocked = UNLOCKED_LINE.exec(text);
  return {
    unlockedDatabase: unlocked?.[1] ?? null,
    errors: text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /error|cannot|failed|checksum/i.test(l)),
  };
}
