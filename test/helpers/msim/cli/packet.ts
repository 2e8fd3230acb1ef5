import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Op, Row } from './store';

/**
 * A synchronization packet (sim-defined body): a magic line, one JSON header line, one JSON line
 * per op, and a checksum line over everything before it. A truncated file fails the checksum.
 */
export interface PacketHeader {
  id: string;
  type: 'UPDATE';
  from: string;
  fromGuid: string;
  incarnation: number;
  family: string;
  clan: string;
  recipients: string[];
  part: string;
  sent: string;
  /** Sent while the sender is in restoration: asks the receiver for an acknowledgement. */
  restorationRequest: boolean;
  /** The receiver this packet acknowledges a restoration to, and that restoration's incarnation. */
  ackFor: string | null;
  ackIncarnation: number | null;
  /** Sender's own epoch row at export time (the receiver's new estimate of the sender). */
  senderRow: Row;
  /** What the sender assumed the receiver had: ops for origin Y start at base[Y] + 1. */
  base: Row;
  top: Row;
}

export interface Packet {
  header: PacketHeader;
  ops: Op[];
}

const MAGIC = 'MSIM-PACKET 1';

export class PacketError extends Error {
  readonly code = 'packet-corrupt';
}

export function encodePacket(packet: Packet): string {
  const body =
    [MAGIC, JSON.stringify(packet.header), ...packet.ops.map((op) => JSON.stringify(op))].join('\n') + '\n';
  return `${body}CHECKSUM ${sha256(body)}\n`;
}

export function decodePacket(text: string): Packet {
  const at = text.lastIndexOf('CHECKSUM ');
  if (!text.startsWith(MAGIC) || at < 0)
    throw new PacketError('packet is truncated or not a packet (no checksum)');
  const body = text.slice(0, at);
  const sum = text.slice(at + 'CHECKSUM '.length).trim();
  if (sum !== sha256(body)) throw new PacketError('packet checksum mismatch');
  const lines = body.trimEnd().split('\n');
  return {
    header: JSON.parse(lines[1] ?? '') as PacketHeader,
    ops: lines.slice(2).map((l) => JSON.parse(l) as Op),
  };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function newPacketId(): string {
  return randomUUID();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** dd-Mon-yy.HH.MM.SS (UTC), the date part of packet names in the manual-synchronization example. */
export function packetDate(d: Date): string {
  return `${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${two(d.getUTCFullYear() % 100)}.${two(
    d.getUTCHours(),
  )}.${two(d.getUTCMinutes())}.${two(d.getUTCSeconds())}`;
}

/** The same date with a colon between hours and minutes, as lspacket prints "Sent:". */
export function sentDate(iso: string): string {
  const d = new Date(iso);
  return packetDate(d).replace(/\.(\d\d)\.(\d\d)\.(\d\d)$/, '.$1:$2:$3') + ' UTC';
}

export function packetName(dest: string, d: Date, pid: number, n: number): string {
  return `sync_${dest}_${packetDate(d)}_${pid}_${n}`;
}

export const SHIPPING_ORDER_PREFIX = 'sh_o_';

export function isPacketFile(name: string): boolean {
  return name.startsWith('sync_') && !name.endsWith('.part');
}

export interface BayFile {
  path: string;
  name: string;
  mtimeMs: number;
}

/** Packet files in a bay directory, oldest first (then by name: the trailing counter orders a batch). */
export function listPackets(dir: string): BayFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter(isPacketFile)
    .map((name) => ({ name, path: join(dir, name), mtimeMs: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name, 'en', { numeric: true }));
}

export function readPacket(path: string): Packet {
  return decodePacket(readFileSync(path, 'utf8'));
}

/**
 * Whether `have` (the receiver's own row) already holds everything the packet's ops build on:
 * for every origin the packet carries ops for, base[origin] <= have[origin]. Otherwise the
 * packet waits for its predecessor. Returns the origins that are missing.
 */
export function missingPredecessors(packet: Packet, have: Row): string[] {
  const missing: string[] = [];
  for (const [origin, top] of Object.entries(packet.header.top)) {
    const base = packet.header.base[origin] ?? 0;
    if (top > base && top > (have[origin] ?? 0) && base > (have[origin] ?? 0)) missing.push(origin);
  }
  return missing;
}
