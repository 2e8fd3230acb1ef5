/** Binlog positions and Tungsten event ids (`mysql-bin.000032:0000000473863524;-1`). */
export interface BinlogPosition {
  file: string;
  offset: number;
}

/** The extractor's event id: offset zero-padded to 16 digits, `;-1` session suffix (as in the docs). */
export function eventIdOf(pos: BinlogPosition): string {
  return `${pos.file}:${String(pos.offset).padStart(16, '0')};-1`;
}

/** Accepts `file:offset`, padded or not, with or without the `;session` suffix. */
export function parsePosition(text: string): BinlogPosition | undefined {
  const m = /^([^:;\s]+):(\d+)(?:;-?\d+)?$/.exec(text.trim());
  if (!m) return undefined;
  return { file: m[1] ?? '', offset: Number(m[2]) };
}

export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.offset - b.offset;
}

/** `mysql-bin.000003:1234` (unpadded), the way a dump header or xtrabackup_binlog_info names it. */
export function plainPosition(pos: BinlogPosition): string {
  return `${pos.file}:${pos.offset}`;
}
