import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * One THL event as tsim stores it: the header fields of the real THL (seqno, fragno, lastFrag,
 * epoch, time, eventid, sourceid, comments) plus the statements. The on-disk encoding (one JSON
 * object per line in `thl.data.%010d`) is sim-defined; file names and rotation follow the real log.
 */
export const ThlEvent = z.object({
  seqno: z.number().int(),
  fragno: z.number().int(),
  lastFrag: z.boolean(),
  epoch: z.number().int(),
  /** java.sql.Timestamp#toString form, e.g. `2014-10-17 16:58:11.0`. */
  time: z.string(),
  eventid: z.string(),
  sourceid: z.string(),
  comments: z.string().default(''),
  schema: z.string().default(''),
  sql: z.array(z.string()),
});
export type ThlEvent = z.infer<typeof ThlEvent>;

export interface ThlFileInfo {
  name: string;
  size: number;
  mtimeMs: number;
}

export const THL_PREFIX = 'thl.data.';

export function thlFileName(index: number): string {
  return `${THL_PREFIX}${String(index).padStart(10, '0')}`;
}

/** `2026-12-01 10:25:47.123` the way java.sql.Timestamp prints (UTC here: the test machine's zone). */
export function javaTimestamp(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const ms = date.getUTCMilliseconds();
  const frac = ms === 0 ? '0' : p(ms, 3).replace(/0+$/, '');
  return (
    `${date.getUTCFullYear()}-${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())} ` +
    `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}.${frac}`
  );
}

interface CachedFile {
  size: number;
  mtimeMs: number;
  events: ThlEvent[];
}

/**
 * The disk log of one host's replication service. Every call reads the directory again (files are
 * small, parsed files are cached by size and mtime), so files deleted by hand — the docs allow
 * "deleting the files directly" instead of `thl purge` — are seen at once.
 */
export class ThlLog {
  private readonly cache = new Map<string, CachedFile>();

  constructor(
    readonly dir: string,
    /** rotate to a new file once the current one is this big (sim-defined default 1 MiB) */
    private readonly maxFileBytes = 1024 * 1024,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  files(): ThlFileInfo[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.startsWith(THL_PREFIX) && /^\d{10}$/.test(f.slice(THL_PREFIX.length)))
      .sort()
      .map((name) => {
        const st = statSync(join(this.dir, name));
        return { name, size: st.size, mtimeMs: st.mtimeMs };
      });
  }

  private read(file: ThlFileInfo): ThlEvent[] {
    const cached = this.cache.get(file.name);
    if (cached && cached.size === file.size && cached.mtimeMs === file.mtimeMs) return cached.events;
    const events = readFileSync(join(this.dir, file.name), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => ThlEvent.parse(JSON.parse(line)));
    this.cache.set(file.name, { size: file.size, mtimeMs: file.mtimeMs, events });
    return events;
  }

  /** Every event with the file it lives in, in seqno order. */
  entries(): { file: string; event: ThlEvent }[] {
    const out: { file: string; event: ThlEvent }[] = [];
    for (const f of this.files()) for (const event of this.read(f)) out.push({ file: f.name, event });
    return out;
  }

  events(): ThlEvent[] {
    return this.entries().map((e) => e.event);
  }

  /** -1 when empty, as DiskLog reports. */
  minSeqno(): number {
    const files = this.files();
    for (const f of files) {
      const ev = this.read(f);
      if (ev[0]) return ev[0].seqno;
    }
    return -1;
  }

  maxSeqno(): number {
    return this.last()?.seqno ?? -1;
  }

  last(): ThlEvent | undefined {
    const files = this.files();
    for (const f of [...files].reverse()) {
      const ev = this.read(f);
      if (ev.length > 0) return ev[ev.length - 1];
    }
    return undefined;
  }

  find(seqno: number): { file: string; event: ThlEvent } | undefined {
    return this.entries().find((e) => e.event.seqno === seqno);
  }

  /** Append after the last event; `newFile` forces a rotation (to that index, for golden fixtures). */
  append(event: ThlEvent, options: { newFile?: number } = {}): string {
    const files = this.files();
    const lastFile = files[files.length - 1];
    let name: string;
    if (options.newFile !== undefined) name = thlFileName(options.newFile);
    else if (!lastFile) name = thlFileName(1);
    else if (lastFile.size >= this.maxFileBytes)
      name = thlFileName(Number(lastFile.name.slice(THL_PREFIX.length)) + 1);
    else name = lastFile.name;
    appendFileSync(join(this.dir, name), `${JSON.stringify(ThlEvent.parse(event))}\n`);
    return name;
  }

  /** Delete events in [low, high] (either open): whole files go, partly covered files are rewritten. */
  purge(low?: number, high?: number): void {
    for (const f of this.files()) {
      const events = this.read(f);
      const keep = events.filter(
        (e) => !((low === undefined || e.seqno >= low) && (high === undefined || e.seqno <= high)),
      );
      if (keep.length === events.length) continue;
      const path = join(this.dir, f.name);
      if (keep.length === 0) rmSync(path, { force: true });
      else writeFileSync(path, keep.map((e) => `${JSON.stringify(e)}\n`).join(''));
      this.cache.delete(f.name);
    }
  }
}
