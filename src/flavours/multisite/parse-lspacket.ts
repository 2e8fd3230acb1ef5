/**
 * `lspacket [-long]`: packets waiting in the storage bays. ClearQuest prints a block per packet
 * opened by `Multiutil: Packet <path>…` with `Type:` / `Sent:` / `From: NAME (GUID)` / `Clan:` /
 * `Recipients:` / `Family:` lines; ClearCase opens it with `Packet is: <path>` and lists the
 * recipients one per line, an asterisk marking those that can import it now. Unknown lines are kept
 * out, so a newer CLI that prints more still parses.
 */
export interface Packet {
  path: string;
  type: string | null;
  from: string | null;
  fromGuid: string | null;
  sent: string | null;
  recipients: string[];
  /** Recipients marked `*`: importable now (its dependencies are in). */
  importable: string[];
  family: string | null;
  /** -long: oplog id ranges per origin, e.g. { a: [13, 20] }. */
  oplogs: Record<string, [number, number]>;
  incarnation: number | null;
  /** The packet asks its destination to acknowledge a restoration (sent while the sender restores). */
  restorationRequest: boolean | null;
  /** Which bay it sits in, from its path. */
  bay: 'incoming' | 'outgoing' | null;
}

const HEADER = /^\s*(?:Multi(?:util|tool):\s*)?Packet(?:\s+is:)?\s+[`'"]?([^`'"\s]+)[`'"]?/i;
const KEY = /^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*)$/;
const NAME = /[A-Za-z][A-Za-z0-9_.-]*/;

const emptyPacket = (path: string): Packet => ({
  path,
  type: null,
  from: null,
  fromGuid: null,
  sent: null,
  recipients: [],
  importable: [],
  family: null,
  oplogs: {},
  incarnation: null,
  restorationRequest: null,
  bay: /\/incoming\//.test(path) ? 'incoming' : /\/outgoing\//.test(path) ? 'outgoing' : null,
});

function addRecipients(p: Packet, text: string): void {
  for (const word of text.split(/[\s,]+/)) {
    const m = /^([A-Za-z][A-Za-z0-9_.-]*)(\*)?$/.exec(word);
    if (!m) continue;
    p.recipients.push(m[1]!);
    if (m[2]) p.importable.push(m[1]!);
  }
}

export function parseLspacket(text: string): Packet[] {
  const packets: Packet[] = [];
  let p: Packet | null = null;
  // ClearCase lists recipients on the lines after its heading.
  let recipientList = false;
  for (const line of text.split('\n')) {
    const h = HEADER.exec(line);
    if (h && !/^\s*packet (type|fragment|should|sent|intended)/i.test(line)) {
      p = emptyPacket(h[1]!);
      packets.push(p);
      recipientList = false;
      continue;
    }
    if (!p || line.trim() === '') continue;
    const kv = KEY.exec(line);
    if (!kv) {
      if (recipientList) addRecipients(p, line);
      continue;
    }
    recipientList = false;
    const key = kv[1]!.toLowerCase();
    const value = kv[2]!.trim();
    if (key === 'type' || key === 'packet type') p.type = value;
    else if (key === 'sent') p.sent = value;
    else if (key === 'from' || key === 'packet sent from replica') {
      const m = /^([A-Za-z][A-Za-z0-9_.-]*)\s*(?:\(([^)]*)\))?/.exec(value);
      p.from = m?.[1] ?? null;
      p.fromGuid = m?.[2] ?? null;
    } else if (key === 'recipients') addRecipients(p, value);
    else if (key.startsWith('packet should be applied')) recipientList = true;
    else if (key === 'family' || key === 'vob family identifier is') p.family = value || null;
    else if (key === 'incarnation' || key === 'recovery incarnation') p.incarnation = num(value);
    else if (key === 'restoration request') p.restorationRequest = /^(yes|true|1)$/i.test(value);
    else if (key === 'oplog' || key === 'oplog ids') {
      // `a 13-20` or `a: 13..20`
      const m = new RegExp(`^(${NAME.source})\\s*:?\\s*(\\d+)\\s*(?:-|\\.\\.)\\s*(\\d+)`).exec(value);
      if (m) p.oplogs[m[1]!] = [Number(m[2]), Number(m[3])];
    }
  }
  return packets;
}

const num = (s: string): number | null => (/^\d+$/.test(s) ? Number(s) : null);

/** Packets from `replica` still waiting to be imported somewhere (step 3 of the restoration). */
export const packetsFrom = (packets: readonly Packet[], replica: string): Packet[] =>
  packets.filter((p) => p.from === replica);
