/** One row of tungsten_<service>.trep_commit_seqno (one per channel). */
export interface TrepRow {
  seqno: number | null;
  epoch: number | null;
  sourceId: string | null;
  eventId: string | null;
}

/**
 * What the runbook's read step prints (runbooks/scripts.ts READ_TREP): `trep<TAB>seqno<TAB>epoch
 * <TAB>source_id<TAB>eventid` per row, or `trep-error: <client message>` when the table could not
 * be read (no tungsten schema in the restored data, SYSTEMS.md §3.2).
 */
export type TrepRead = { kind: 'rows'; rows: TrepRow[] } | { kind: 'error'; message: string };

const nullable = (v: string | undefined): string | null =>
  v === undefined || v === '' || v === 'NULL' || v === '\\N' ? null : v;

const int = (v: string | undefined): number | null => {
  const s = nullable(v);
  return s !== null && /^-?\d+$/.test(s) ? Number(s) : null;
};

export function parseTrepRead(text: string): TrepRead {
  const error = /^trep-error:\s*(.*)$/m.exec(text);
  if (error) return { kind: 'error', message: error[1]!.trim() || 'unreadable' };
  const rows = text
    .split('\n')
    .filter((l) => l.startsWith('trep\t'))
    .map((l) => {
      const f = l.replace(/\r$/, '').split('\t');
      return { seqno: int(f[1]), epoch: int(f[2]), sourceId: nullable(f[3]), eventId: nullable(f[4]) };
    });
  return { kind: 'rows', rows };
}
