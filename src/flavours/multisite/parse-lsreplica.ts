/**
 * `lsreplica -long`: the family's replicas, their hosts, and the restoration state. ClearCase
 * opens a block with `replica "name"`, ClearQuest (sim-defined where the docs give no text) the
 * same; the own block says `current replica: yes`, `locked:`, `restoring:`, `recovery
 * incarnation:`, `awaiting restoration update from: "a", "b"` and `owes restoration
 * acknowledgement to: "r"`; a sibling block that still owes the restoring replica its update says
 * `owes restoration update to: "r"`. Unknown lines are ignored.
 */
export interface ReplicaEntry {
  name: string;
  host: string | null;
  /** This host's own replica. */
  current: boolean;
  locked: boolean | null;
  /** In restoration (restorereplica ran, the last acknowledgement is not in). */
  restoring: boolean;
  /** Siblings this replica still needs a restoration update from (on the restoring replica). */
  awaiting: string[];
  /** Replicas this one owes a restoration update or acknowledgement. */
  owes: string[];
  incarnation: number | null;
  /** Lines about restoration, as printed. */
  annotations: string[];
}

const BLOCK = /^\s*(?:replica\s+"([^"]+)"|Replica:\s*([A-Za-z][A-Za-z0-9_.-]*))\s*$/i;
const NAMES = /[A-Za-z][A-Za-z0-9_.-]*/g;
const yes = (s: string) => /^(yes|true)$/i.test(s.trim());

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
        current: false,
        locked: null,
        restoring: false,
        awaiting: [],
        owes: [],
        incarnation: null,
        annotations: [],
      };
      out.push(cur);
      continue;
    }
    if (!cur || line === '') continue;
    const kv = /^([a-z][a-z ]*?):\s*(.*)$/i.exec(line);
    const key = kv?.[1]?.toLowerCase() ?? '';
    const value = kv?.[2] ?? '';
    if (key === 'host') cur.host = value.replace(/^"|"$/g, '') || null;
    else if (key === 'current replica') cur.current = yes(value);
    else if (key === 'locked') cur.locked = yes(value);
    else if (key === 'restoring' || key === 'in restoration') cur.restoring = yes(value) || cur.restoring;
    else if (key === 'recovery incarnation' && /^\d+$/.test(value)) cur.incarnation = Number(value);
    if (!/restor/i.test(line)) continue;
    cur.annotations.push(line);
    const from = /restoration updates? from:?\s*(.*)$/i.exec(line);
    if (from) cur.awaiting.push(...names(from[1]!));
    const to = /(?:must send|owes?)\s+(?:a\s+)?restoration (?:update|ack\w*)\s+to:?\s*(.*)$/i.exec(line);
    if (to) cur.owes.push(...names(to[1]!));
  }
  return out;
}

const names = (s: string): string[] => [...s.matchAll(NAMES)].map((m) => m[0]);
