/**
 * `lsreplica -long`: the family's replicas, their hosts, and (while a replica restores) which
 * siblings still owe it a restoration update. ClearCase opens a block with `replica "name"`,
 * ClearQuest with `Replica: name` (sim-defined where the docs give no text, so the parser is
 * tolerant: any line mentioning restoration in a block is kept as an annotation).
 */
export interface ReplicaEntry {
  name: string;
  host: string | null;
  /** Lines about restoration ("must send restoration update to …", "in restoration"). */
  annotations: string[];
  /** Locked for restoration (restorereplica ran, the last acknowledgement is not in). */
  restoring: boolean;
  /** Siblings this replica still needs a restoration update from (on the restoring replica). */
  awaiting: string[];
  /** Replicas this one still owes a restoration update (on a sibling). */
  owes: string[];
  incarnation: number | null;
}

const BLOCK = /^\s*(?:replica\s+"([^"]+)"|Replica:\s*([A-Za-z][A-Za-z0-9_.-]*))\s*$/i;
const NAMES = /[A-Za-z][A-Za-z0-9_.-]*/g;

export function parseLsreplica(text: string): ReplicaEntry[] {
  const out: ReplicaEntry[] = [];
  let cur: ReplicaEntry | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const b = BLOCK.exec(raw);
    if (b) {
      cur = {
        name: (b[1] ?? b[2])!,
        host: null,
        annotations: [],
        restoring: false,
        awaiting: [],
        owes: [],
        incarnation: null,
      };
      out.push(cur);
      continue;
    }
    if (!cur || line === '') continue;
    const host = /^host:\s*"?([^"\s]+)"?/i.exec(line);
    if (host) {
      cur.host = host[1]!;
      continue;
    }
    const inc = /incarnation:?\s*(\d+)/i.exec(line);
    if (inc) cur.incarnation = Number(inc[1]);
    if (!/restor/i.test(line)) continue;
    cur.annotations.push(line);
    if (/in restoration|restoring|locked for restoration/i.test(line)) cur.restoring = true;
    // "awaiting restoration update from: a, b" / "must receive restoration update from a b"
    const from = /restoration updates?\s+from:?\s*(.*)$/i.exec(line);
    if (from) cur.awaiting.push(...names(from[1]!));
    const to = /(?:must send|owes?)\s+(?:a\s+)?restoration (?:update|ack\w*)\s+to:?\s*(.*)$/i.exec(line);
    if (to) cur.owes.push(...names(to[1]!));
  }
  return out;
}

const names = (s: string): string[] => [...s.matchAll(NAMES)].map((m) => m[0]);
