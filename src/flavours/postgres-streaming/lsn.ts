/**
 * PostgreSQL WAL positions ('X/Y' text, two hex halves of a 64-bit byte offset). Compared and
 * subtracted as bigint: a number loses precision past 2^53 and string order is wrong ('0/9' > '0/10').
 */
export type Lsn = bigint;

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
/** Bytes per WAL segment: the default (initdb --wal-segsize) and the one the archive names assume. */
export const WAL_SEGMENT_BYTES = 16n * 1024n * 1024n;

/** 'X/Y' → bigint; null for NULL or anything else (an unreadable position is unknown, never 0). */
export function parseLsn(text: unknown): Lsn | null {
  if (typeof text !== 'string') return null;
  const m = LSN_TEXT.exec(text.trim());
  if (!m) return null;
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

/** bigint → 'X/Y' in PostgreSQL's own spelling (upper case, no leading zeros). */
export function formatLsn(lsn: Lsn): string {
  if (lsn < 0n) throw new RangeError(`negative LSN ${lsn}`);
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function compareLsn(a: Lsn, b: Lsn): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The greater of the known positions; null only when none is known. */
export function maxLsn(...values: (Lsn | null | undefined)[]): Lsn | null {
  let best: Lsn | null = null;
  for (const v of values) if (v !== null && v !== undefined && (best === null || v > best)) best = v;
  return best;
}

/** a − b in bytes as a number (exact below 2^53 bytes = 8 PiB); null when either is unknown. */
export function lsnDiff(a: Lsn | null, b: Lsn | null): number | null {
  if (a === null || b === null) return null;
  const d = a - b;
  const n = Number(d);
  if (!Number.isSafeInteger(n)) throw new RangeError(`LSN difference ${d} is too large`);
  return n;
}

/**
 * A WAL file name (TTTTTTTTXXXXXXXXYYYYYYYY, 16 MiB segments) → its timeline and the LSN where
 * the segment ends: an archived segment proves its old primary had written at least that far.
 */
export function walFileEnd(name: string): { timeline: number; endLsn: Lsn } | null {
  const m = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/.exec(name);
  if (!m) return null;
  const segmentsPerId = 0x100000000n / WAL_SEGMENT_BYTES;
  const segno = BigInt(`0x${m[2]}`) * segmentsPerId + BigInt(`0x${m[3]}`);
  return { timeline: parseInt(m[1] as string, 16), endLsn: (segno + 1n) * WAL_SEGMENT_BYTES };
}
