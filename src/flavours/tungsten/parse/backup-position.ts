import type { BinlogPosition } from './event-id';

/**
 * Where a backup stands in the primary's binlog: the dump header mariadb-dump/mysqldump write
 * with --master-data (commented or not)
 *   -- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000032', MASTER_LOG_POS=473863524;
 * or mariabackup/xtrabackup's xtrabackup_binlog_info (`mysql-bin.000032<TAB>473863524[<TAB>gtid]`).
 * Null when neither is there: the position is then unknown, never 0.
 */
export function parseBackupPosition(text: string): BinlogPosition | null {
  const change =
    /CHANGE\s+(?:MASTER|REPLICATION\s+SOURCE)\s+TO\s+(?:MASTER|SOURCE)_LOG_FILE\s*=\s*'([A-Za-z0-9_.-]+\.\d+)'\s*,\s*(?:MASTER|SOURCE)_LOG_POS\s*=\s*(\d+)/i.exec(
      text,
    );
  if (change) return { file: change[1]!, offset: BigInt(change[2]!) };
  for (const line of text.split('\n')) {
    const info = /^\s*([A-Za-z0-9_.-]+\.\d+)\s+(\d+)(?:\s+\S.*)?\s*$/.exec(line);
    if (info) return { file: info[1]!, offset: BigInt(info[2]!) };
  }
  return null;
}
