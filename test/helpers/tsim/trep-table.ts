import type { Connection, RowDataPacket } from 'mysql2/promise';

/**
 * `tungsten_<svc>.trep_commit_seqno`, columns as in the OSS builder's tungsten_schema.sql. One row
 * per apply channel (task_id).
 */
export function trepSchema(service: string): string {
  return `tungsten_${service}`;
}

export function createTrepTableSql(service: string): string {
  return `CREATE TABLE IF NOT EXISTS \`${trepSchema(service)}\`.trep_commit_seqno (
  task_id INT NOT NULL,
  seqno BIGINT,
  fragno SMALLINT,
  last_frag CHAR(1),
  source_id VARCHAR(128),
  epoch_number BIGINT,
  eventid VARCHAR(128),
  applied_latency INT,
  update_timestamp TIMESTAMP NULL,
  shard_id VARCHAR(128),
  extract_timestamp TIMESTAMP NULL,
  PRIMARY KEY (task_id)
) ENGINE=InnoDB`;
}

export interface TrepRow {
  task_id: number;
  seqno: number | null;
  fragno: number | null;
  last_frag: string | null;
  source_id: string | null;
  epoch_number: number | null;
  eventid: string | null;
  applied_latency: number | null;
  update_timestamp: Date | null;
  shard_id: string | null;
  extract_timestamp: Date | null;
}

/** undefined when the table (or the schema) does not exist. */
export async function readTrepRows(conn: Connection, service: string): Promise<TrepRow[] | undefined> {
  try {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT task_id, seqno, fragno, last_frag, source_id, epoch_number, eventid, applied_latency,
              update_timestamp, shard_id, extract_timestamp
         FROM \`${trepSchema(service)}\`.trep_commit_seqno ORDER BY task_id`,
    );
    return rows.map((r) => ({
      ...(r as TrepRow),
      seqno: r.seqno === null ? null : Number(r.seqno),
      epoch_number: r.epoch_number === null ? null : Number(r.epoch_number),
    }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_DB_ERROR') return undefined;
    throw err;
  }
}

/** Create schema and table (not binlogged, as the replicator's catalog writes are not replicated). */
export async function ensureTrepTable(conn: Connection, service: string): Promise<void> {
  await conn.query('SET SESSION sql_log_bin = 0');
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${trepSchema(service)}\``);
    await conn.query(createTrepTableSql(service));
  } finally {
    await conn.query('SET SESSION sql_log_bin = 1');
  }
}

export interface TrepPosition {
  /** the channel; 0 unless the service runs parallel apply */
  taskId?: number;
  seqno: number;
  fragno: number;
  lastFrag: boolean;
  sourceId: string;
  epoch: number;
  eventId: string;
  appliedLatency?: number;
  extractTime?: Date;
}

/** REPLACE one channel's row (default 0); the caller decides about transactions and binlogging. */
export async function writeTrepRow(conn: Connection, service: string, pos: TrepPosition): Promise<void> {
  await conn.query(
    `REPLACE INTO \`${trepSchema(service)}\`.trep_commit_seqno
       (task_id, seqno, fragno, last_frag, source_id, epoch_number, eventid, applied_latency,
        update_timestamp, shard_id, extract_timestamp)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NOW(), ?, ?)`,
    [
      pos.taskId ?? 0,
      pos.seqno,
      pos.fragno,
      pos.lastFrag ? '1' : '0',
      pos.sourceId,
      pos.epoch,
      pos.eventId,
      pos.appliedLatency ?? 0,
      '#UNKNOWN',
      pos.extractTime ?? new Date(),
    ],
  );
}
