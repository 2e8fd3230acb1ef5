/**
 * Binlog positions as Tungsten writes them and as backups record them. THL and trep_commit_seqno
 * say `mysql-bin.000032:0000000473860407;-1` (offset zero-padded to 16 digits, `;` and a session
 * suffix); a dump header or xtrabackup_binlog_info says `mysql-bin.000032:473863524`. Both
 * normalise to (file, offset) so they can be compared exactly.
 */
export interface BinlogPosition {
  /** Binlog file name, e.g. mysql-bin.000032. */
  file: string;
  offset: bigint;
}

const EVENT_ID = /^([A-Za-z0-9_.-]+\.(\d+)):(\d{1,20})(?:;(-?\d+))?$/;

/** The position an event id or backup position names; null for anything else (never a guess). */
export function parseEventId(text: string | null | undefined): BinlogPosition | null {
  const m = EVENT_ID.exec((text ?? '').trim());
  if (!m) return null;
  return { file: m[1]!, offset: BigInt(m[3]!) };
}

/** -1, 0, 1: by binlog file index, then offset. Files of different base names do not compare (null). */
export function compareEventIds(a: BinlogPosition, b: BinlogPosition): -1 | 0 | 1 | null {
  const [baseA, indexA] = splitFile(a.file);
  const [baseB, indexB] = splitFile(b.file);
  if (baseA !== baseB) return null;
  if (indexA !== indexB) return indexA < indexB ? -1 : 1;
  if (a.offset === b.offset) return 0;
  return a.offset < b.offset ? -1 : 1;
}

function splitFile(file: string): [string, number] {
  const dot = file.lastIndexOf('.');
  return [file.slice(0, dot), Number(file.slice(dot + 1))];
}

/** The form `thl list -event` and `dsctl set -event-id` take: `file:offset` with 16 digits, no suffix. */
export function thlEventId(p: BinlogPosition): string {
  return `${p.file}:${p.offset.toString().padStart(16, '0')}`;
}

/** For humans: `mysql-bin.000032:473863524`. */
export const formatPosition = (p: BinlogPosition): string => `${p.file}:${p.offset.toString()}`;

export const samePosition = (a: BinlogPosition, b: BinlogPosition): boolean => compareEventIds(a, b) === 0;
