/** `trepctl -service S status`: `name : value` lines. Null when it is no status output at all. */
export interface TrepctlStatus {
  state: string | null;
  role: string | null;
  appliedLastSeqno: number | null;
  appliedLastEventId: string | null;
  appliedLatency: number | null;
  latestEpochNumber: number | null;
  minimumStoredSeqNo: number | null;
  maximumStoredSeqNo: number | null;
  pendingError: string | null;
  pendingErrorSeqno: number | null;
  pendingExceptionMessage: string | null;
  serviceName: string | null;
  masterConnectUri: string | null;
  fields: Record<string, string>;
}

/** Tungsten's "nothing" values: an unset field is unknown, not 0. */
const NONE = new Set(['', 'NONE', 'none', 'null']);

export function parseTrepctlStatus(text: string): TrepctlStatus | null {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z][A-Za-z0-9]*)\s*:\s?(.*)$/.exec(line.trimEnd());
    if (m) fields[m[1]!] = m[2]!.trim();
  }
  if (fields.state === undefined && fields.appliedLastSeqno === undefined) return null;
  const str = (k: string) => (fields[k] === undefined || NONE.has(fields[k]) ? null : fields[k]);
  const int = (k: string) => {
    const v = str(k);
    return v !== null && /^-?\d+$/.test(v) && Number(v) >= 0 ? Number(v) : null;
  };
  const float = (k: string) => {
    const v = str(k);
    return v !== null && /^-?\d+(\.\d+)?$/.test(v) && Number(v) >= 0 ? Number(v) : null;
  };
  return {
    state: str('state'),
    role: str('role'),
    appliedLastSeqno: int('appliedLastSeqno'),
    appliedLastEventId: str('appliedLastEventId'),
    appliedLatency: float('appliedLatency'),
    latestEpochNumber: int('latestEpochNumber'),
    minimumStoredSeqNo: int('minimumStoredSeqNo'),
    maximumStoredSeqNo: int('maximumStoredSeqNo'),
    pendingError: str('pendingError'),
    pendingErrorSeqno: int('pendingErrorSeqno'),
    pendingExceptionMessage: str('pendingExceptionMessage'),
    serviceName: str('serviceName'),
    masterConnectUri: str('masterConnectUri'),
    fields,
  };
}
