/**
 * `cctrl` `ls`: the coordinator line and one box per datasource, e.g.
 *   COORDINATOR[host1:AUTOMATIC:ONLINE]
 *   |host2(slave:SHUNNED(MANUALLY-SHUNNED), progress=3, latency=1.243)   |
 *   |STATUS [SHUNNED] [2013/05/04 05:40:43 AM BST]                        |
 *   |  MANAGER(state=ONLINE)                                              |
 *   |  REPLICATOR(role=slave, master=host1, state=ONLINE)                 |
 *   |  DATASERVER(state=ONLINE)                                           |
 * Newer releases say primary/replica for master/slave: both are read, as the same roles.
 */
export interface CctrlDatasource {
  name: string;
  role: 'primary' | 'replica' | 'other';
  /** ONLINE, OFFLINE, SHUNNED, FAILED, … */
  state: string;
  /** MANUALLY-SHUNNED, or why it FAILED. */
  stateDetail: string | null;
  /** -1 (the manager does not know) is null. */
  progress: number | null;
  latency: number | null;
  status: string | null;
  reason: string | null;
  manager: string | null;
  replicator: { role: string | null; master: string | null; state: string | null } | null;
  dataserver: string | null;
}

export interface CctrlLs {
  coordinator: { host: string; policy: string; state: string } | null;
  datasources: CctrlDatasource[];
}

const HEAD =
  /^([A-Za-z0-9_.-]+)\((master|slave|primary|replica|relay|standby|witness)\s*:\s*([A-Z-]+)(?:\(([^)]*)\))?((?:,\s*[^,)]+)*)\)/i;

const roleOf = (word: string): CctrlDatasource['role'] => {
  const w = word.toLowerCase();
  if (w === 'master' || w === 'primary') return 'primary';
  if (w === 'slave' || w === 'replica') return 'replica';
  return 'other';
};

const attrs = (text: string): Record<string, string> =>
  Object.fromEntries(
    [...text.matchAll(/([A-Za-z ]+?)\s*=\s*([^,)]*)/g)].map((m) => [
      m[1]!.trim().toLowerCase(),
      m[2]!.trim(),
    ]),
  );

const nonNegative = (v: string | undefined): number | null => {
  if (v === undefined || !/^-?\d+(\.\d+)?$/.test(v)) return null;
  const n = Number(v);
  return n < 0 ? null : n;
};

/** Null when the text holds neither a coordinator nor a datasource (cctrl failed, or no manager). */
export function parseCctrlLs(text: string): CctrlLs | null {
  const lines = text.split('\n').map((l) => l.trim().replace(/^\|/, '').replace(/\|$/, '').trim());
  const coord = /COORDINATOR\[([^:\]]+):([A-Z]+):([A-Z]+)\]/.exec(text);
  const datasources: CctrlDatasource[] = [];
  let current: CctrlDatasource | null = null;
  for (const line of lines) {
    const head = HEAD.exec(line);
    if (head) {
      const a = attrs(head[5] ?? '');
      current = {
        name: head[1]!,
        role: roleOf(head[2]!),
        state: head[3]!.toUpperCase(),
        stateDetail: head[4] ?? null,
        progress: nonNegative(a.progress),
        latency: nonNegative(a['thl latency'] ?? a.latency),
        status: null,
        reason: null,
        manager: null,
        replicator: null,
        dataserver: null,
      };
      datasources.push(current);
      continue;
    }
    if (!current) continue;
    let m: RegExpExecArray | null;
    if ((m = /^STATUS\s*\[([^\]]*)\]/.exec(line))) current.status = m[1]!.trim();
    else if ((m = /^REASON\s*\[(.*)\]\s*$/.exec(line))) current.reason = m[1]!.trim();
    else if ((m = /^MANAGER\((.*)\)\s*$/.exec(line))) current.manager = attrs(m[1]!).state ?? null;
    else if ((m = /^DATASERVER\((.*)\)\s*$/.exec(line))) current.dataserver = attrs(m[1]!).state ?? null;
    else if ((m = /^REPLICATOR\((.*)\)\s*$/.exec(line))) {
      const a = attrs(m[1]!);
      current.replicator = { role: a.role ?? null, master: a.master ?? null, state: a.state ?? null };
    }
  }
  if (!coord && datasources.length === 0) return null;
  return {
    coordinator: coord ? { host: coord[1]!, policy: coord[2]!, state: coord[3]! } : null,
    datasources,
  };
}
