import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { BinlogPosition } from './event-id';

/**
 * Extraction of writes that did not come through `cluster.write` (e.g. Recover's own canary row,
 * or any SQL a test runs on the primary): a real Tungsten primary replicates everything its
 * binlog holds. Reads `SHOW BINLOG EVENTS` from the last extracted position and returns each
 * committed transaction's statements with the position after its commit. Only statement events
 * can be replayed here; a row event (an unsafe statement under MIXED) is reported, never dropped
 * silently. sim-defined: real Tungsten parses row events too.
 */
export interface ExtractedTransaction {
  statements: string[];
  schema: string;
  end: BinlogPosition;
}

export class RowEventError extends Error {
  constructor(at: BinlogPosition) {
    super(
      `tsim: a row-based binlog event at ${at.file}:${at.offset} cannot be extracted (use deterministic SQL)`,
    );
  }
}

const USE = /^use `([^`]+)`; ([\s\S]*)$/;

export async function binlogSince(
  conn: Connection,
  from: BinlogPosition,
): Promise<{ transactions: ExtractedTransaction[]; to: BinlogPosition }> {
  const [status] = await conn.query<RowDataPacket[]>('SHOW MASTER STATUS');
  const to = { file: String(status[0]?.File), offset: Number(status[0]?.Position) };
  if (to.file === from.file && to.offset <= from.offset) return { transactions: [], to: from };
  const [logs] = await conn.query<RowDataPacket[]>('SHOW BINARY LOGS');
  const files = logs.map((l) => String(l.Log_name)).filter((f) => f >= from.file && f <= to.file);
  const transactions: ExtractedTransaction[] = [];
  for (const file of files) {
    const start = file === from.file ? from.offset : 4;
    const [events] = await conn.query<RowDataPacket[]>(`SHOW BINLOG EVENTS IN '${file}' FROM ${start}`);
    let open: { statements: string[]; schema: string } | null = null;
    let ddl = false;
    for (const e of events) {
      const type = String(e.Event_type);
      const info = String(e.Info ?? '');
      const end = { file, offset: Number(e.End_log_pos) };
      if (type === 'Gtid') {
        open = info.startsWith('BEGIN') ? { statements: [], schema: '' } : null;
        ddl = !info.startsWith('BEGIN');
      } else if (type === 'Query' && info !== 'BEGIN' && info !== 'COMMIT') {
        const m = USE.exec(info);
        const schema = m?.[1] ?? '';
        const sql = m?.[2] ?? info;
        if (open) {
          open.statements.push(sql);
          open.schema ||= schema;
        } else if (ddl) {
          transactions.push({ statements: [sql], schema, end });
          ddl = false;
        }
      } else if (type === 'Xid' || (type === 'Query' && info === 'COMMIT')) {
        if (open && open.statements.length > 0) transactions.push({ ...open, end });
        open = null;
      } else if (/_rows/i.test(type)) {
        throw new RowEventError({ file, offset: Number(e.Pos) });
      }
    }
  }
  return { transactions, to };
}
