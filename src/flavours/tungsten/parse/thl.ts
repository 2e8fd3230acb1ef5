import { parseEventId, type BinlogPosition } from './event-id';

/** `thl -service S info`: what the log holds. min/max null for an empty log (never 0). */
export interface ThlInfo {
  minSeqno: number | null;
  maxSeqno: number | null;
  events: number | null;
  oldestFile: string | null;
}

const num = (text: string | undefined): number | null => {
  if (text === undefined || !/^-?\d+$/.test(text)) return null;
  const n = Number(text);
  return n < 0 ? null : n;
};

/** Null when the text is no `thl info` output at all (no `min seq#` nor `max seq#` line). */
export function parseThlInfo(text: string): ThlInfo | null {
  const field = (name: string) => new RegExp(`^\\s*${name}\\s*=\\s*(\\S+)`, 'm').exec(text)?.[1];
  const min = field('min seq#');
  const max = field('max seq#');
  if (min === undefined && max === undefined) return null;
  return {
    minSeqno: num(min),
    maxSeqno: num(max),
    events: num(field('events')),
    oldestFile: field('oldest file') ?? null,
  };
}

/** One THL event header as `thl list -headers` prints it. */
export interface ThlHeader {
  seqno: number;
  fragno: number;
  lastFrag: boolean;
  epoch: number;
  time: string | null;
  /** As printed, e.g. `mysql-bin.000032:0000000473863524;-1`. */
  eventId: string;
  position: BinlogPosition | null;
  sourceId: string;
  file: string | null;
}

/** `thl list -event X -headers`: an exact header, an approximate match (refused), or nothing usable. */
export type ThlLookup =
  | { kind: 'exact'; headers: ThlHeader[] }
  | { kind: 'approximate'; text: string }
  | { kind: 'not-found'; text: string };

/**
 * Both formats the tools print: the block of 7.x docs
 *   SEQ# = 7748 / FRAG# = 0 (last frag)
 *   - FILE = thl.data.0000000010
 *   - TIME = 2014-10-17 16:58:11.0
 *   - EPOCH# = 0
 *   - EVENTID = mysql-bin.000032:0000000473863524;-1
 *   - SOURCEID = db1-east.continuent.com
 * and the tab-delimited line of the open-source code (seqno, epoch, fragno, lastFrag, time,
 * eventid, sourceid; a title line is skipped). "Approximative match" is its own outcome.
 */
export function parseThlList(text: string): ThlLookup {
  const approx = /Approximative match found[^\n]*/.exec(text);
  if (approx) return { kind: 'approximate', text: approx[0].trim() };
  const headers = [...parseBlocks(text), ...parseTabbed(text)];
  if (headers.length === 0) return { kind: 'not-found', text: text.trim().split('\n').slice(-3).join(' ') };
  return { kind: 'exact', headers };
}

function parseBlocks(text: string): ThlHeader[] {
  const out: ThlHeader[] = [];
  const starts = [...text.matchAll(/^SEQ#\s*=\s*(\d+)\s*\/\s*FRAG#\s*=\s*(\d+)(\s*\(last frag\))?/gm)];
  for (const [i, m] of starts.entries()) {
    const body = text.slice(m.index, starts[i + 1]?.index ?? text.length);
    const field = (name: string) => new RegExp(`^\\s*-\\s*${name}\\s*=\\s*(.*?)\\s*$`, 'm').exec(body)?.[1];
    const epoch = field('EPOCH#');
    const eventId = field('EVENTID');
    const sourceId = field('SOURCEID');
    if (epoch === undefined || !/^\d+$/.test(epoch) || !eventId || !sourceId) continue;
    out.push({
      seqno: Number(m[1]),
      fragno: Number(m[2]),
      lastFrag: m[3] !== undefined,
      epoch: Number(epoch),
      time: field('TIME') ?? null,
      eventId,
      position: parseEventId(eventId),
      sourceId,
      file: field('FILE') ?? null,
    });
  }
  return out;
}

function parseTabbed(text: string): ThlHeader[] {
  return text.split('\n').flatMap((line): ThlHeader[] => {
    const f = line.replace(/\r$/, '').split('\t');
    if (f.length < 7 || !/^\d+$/.test(f[0]!) || !/^\d+$/.test(f[1]!) || !/^\d+$/.test(f[2]!)) return [];
    const lastFrag = /^(true|1|t)$/i.test(f[3]!.trim());
    return [
      {
        seqno: Number(f[0]),
        epoch: Number(f[1]),
        fragno: Number(f[2]),
        lastFrag,
        time: f[4]!.trim() || null,
        eventId: f[5]!.trim(),
        position: parseEventId(f[5]),
        sourceId: f[6]!.trim(),
        file: null,
      },
    ];
  });
}
