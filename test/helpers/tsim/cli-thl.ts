import type { CliIo } from './cli-server';
import { comparePositions, parsePosition } from './event-id';
import type { HostRuntime, ThlVersion } from './host-runtime';
import type { ThlEvent } from './thl-log';

/** OSS 5.x `thl help` text (THLManagerCtrl.printHelp). */
const HELP_5 = [
  'Tungsten Replicator THL Manager',
  'Syntax: thl [global-options] command [command-options]',
  'Global options:',
  '  -conf path    - Path to a static-<svc>.properties file',
  '  -service name - Name of a replication service',
  'Commands and corresponding options:',
  '  list [-low #] [-high #] [-by #] - Dump THL events from low to high #',
  '  list [-seqno #]                 - Dump the exact event by a given #',
  '  list [-file <file_name>]        - Dump the content of the given log file',
  '       [-charset <charset>] [-hex]  Character set used for decoding row data',
  '       [-sql]                       Representative (no metadata!) SQL mode',
  '       [-specs]                     Add detailed column specifications',
  '       [-headers]                   Print headers only',
  '       [-json]                      Output in machine-parsable JSON format',
  '       [-no-checksum]               Suppress checksums',
  '       [-timezone timezone]         Time used zone for time-related data',
  '  index [-no-checksum]            - Display index of log files',
  '  purge [-low #] [-high #]        - Delete THL files identified by the given range',
  '        [-no-checksum] [-y]         Use -y to suppress prompt',
  '  info [-no-checksum]             - Display minimum, maximum sequence number',
  '                                    and other summary information about log',
  '  help                            - Print this help display',
];

/** 7.x adds `list -event` and `thl dsctl` (sim-defined wording of the two added lines). */
const HELP_7 = [
  ...HELP_5.slice(0, 9),
  '  list [-event <event_id>]        - Dump the event with the given native event id',
  ...HELP_5.slice(9, 21),
  '  dsctl -event <event_id>         - Print the dsctl command that sets the position to this event',
  ...HELP_5.slice(21),
];

export function thlHelp(v: ThlVersion): string {
  return `${(v === '7' ? HELP_7 : HELP_5).join('\n')}\n`;
}

/** THLManagerCtrl.printHeader: format 2 (tab) for 5.x -headers, the block form otherwise (7.x adds FILE). */
export function renderHeader(event: ThlEvent, file: string, v: ThlVersion, headersOnly: boolean): string {
  if (v === '5' && headersOnly)
    return (
      [
        event.seqno,
        event.epoch,
        event.fragno,
        event.lastFrag,
        event.time,
        event.eventid,
        event.sourceid,
      ].join('\t') + `\t${event.comments}\t\n`
    );
  const lines = [`SEQ# = ${event.seqno} / FRAG# = ${event.fragno}${event.lastFrag ? ' (last frag)' : ''}`];
  if (v === '7') lines.push(`- FILE = ${file}`);
  lines.push(
    `- TIME = ${event.time}`,
    `- EPOCH# = ${event.epoch}`,
    `- EVENTID = ${event.eventid}`,
    `- SOURCEID = ${event.sourceid}`,
  );
  if (event.comments) lines.push(`- COMMENTS = ${event.comments}`);
  return `${lines.join('\n')}\n`;
}

/** The event body (sim-approximate METADATA/OPTIONS; statements as stored). */
function renderBody(h: HostRuntime, event: ThlEvent): string {
  const lines = [
    `- METADATA = [mysql_server_id=${h.name};dbms_type=mysql;tz_aware=true;service=${h.service};shard=${event.schema || '#UNKNOWN'}]`,
    '- TYPE = com.continuent.tungsten.replicator.event.ReplDBMSEvent',
  ];
  event.sql.forEach((sql, i) => {
    lines.push(
      "- OPTIONS = [##charset = UTF-8, autocommit = 1, sql_auto_is_null = 0, foreign_key_checks = 1, unique_checks = 1, time_zone = '+00:00']",
    );
    if (i === 0) lines.push(`- SCHEMA = ${event.schema}`);
    lines.push(`- SQL(${i}) = ${sql}`);
  });
  return `${lines.join('\n')}\n`;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(2);
}

function fileDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

type Lookup =
  | { kind: 'exact'; file: string; event: ThlEvent }
  | { kind: 'between'; before: ThlEvent; after: ThlEvent }
  | { kind: 'none' };

/** Find the event whose native event id names `text` (padding and `;session` ignored). */
export function lookupEvent(h: HostRuntime, text: string): Lookup {
  const wanted = parsePosition(text);
  if (!wanted) return { kind: 'none' };
  const entries = h.thl.entries();
  let before: ThlEvent | undefined;
  for (const e of entries) {
    const pos = parsePosition(e.event.eventid);
    if (!pos) continue;
    const cmp = comparePositions(pos, wanted);
    if (cmp === 0) return { kind: 'exact', file: e.file, event: e.event };
    if (cmp < 0) before = e.event;
    else if (before) return { kind: 'between', before, after: e.event };
    else return { kind: 'none' };
  }
  return { kind: 'none' };
}

function notFound(io: CliIo, text: string, found: Lookup): number {
  // sim-defined beyond the docs' "Event not found : Approximative match found between …" prefix.
  if (found.kind === 'between')
    io.out(
      `Event not found : Approximative match found between seqno ${found.before.seqno} (${found.before.eventid}) ` +
        `and seqno ${found.after.seqno} (${found.after.eventid})\n`,
    );
  else io.out(`Event not found : ${text}\n`);
  return 1;
}

/** `thl [-service s] list|index|info|purge|help` (+ `list -event`, `dsctl -event` on 7.x). */
export async function thl(h: HostRuntime, argv: string[], io: CliIo): Promise<number> {
  const v = h.thlVersion;
  let service: string | undefined;
  let command: string | undefined;
  let low: number | undefined;
  let high: number | undefined;
  let seqno: number | undefined;
  let eventText: string | undefined;
  let headers = false;
  let json = false;
  let yes = false;
  let file: string | undefined;
  const withValue = new Set(['-conf', '-by', '-charset', '-timezone']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-service') service = argv[++i];
    else if (withValue.has(a)) i++;
    else if (a === '-low') low = Number(argv[++i]);
    else if (a === '-high') high = Number(argv[++i]);
    else if (a === '-seqno') seqno = Number(argv[++i]);
    else if (a === '-event' && v === '7') eventText = argv[++i];
    else if (a === '-headers') headers = true;
    else if (a === '-json') json = true;
    else if (a === '-y') yes = true;
    else if (a === '-file') file = argv[++i];
    else if (['-sql', '-specs', '-hex', '-no-checksum'].includes(a)) continue;
    else if (a.startsWith('-')) {
      io.out(`Unrecognized option: ${a}\n`);
      return 1;
    } else command = a;
  }
  if (command === undefined) {
    io.out('Command is missing!\n');
    io.out(thlHelp(v));
    return 1;
  }
  if (command === 'help') {
    io.out(thlHelp(v));
    return 0;
  }
  if (service !== undefined && service !== h.service) {
    io.out(`Fatal error: Unknown service: ${service}\n`);
    return 1;
  }
  switch (command) {
    case 'info': {
      const files = h.thl.files();
      const min = h.thl.minSeqno();
      const max = h.thl.maxSeqno();
      io.out(`log directory = ${h.thl.dir}\n`);
      io.out(`log files = ${files.length}\n`);
      io.out(`logs size = ${mb(files.reduce((n, f) => n + f.size, 0))} MB\n`);
      io.out(`min seq# = ${min}\n`);
      io.out(`max seq# = ${max}\n`);
      io.out(`events = ${max - min}\n`); // THLManagerCtrl reports max - min
      const show = (label: string, f: (typeof files)[number] | undefined) =>
        io.out(f ? `${label} = ${f.name} (${mb(f.size)} MB, ${fileDate(f.mtimeMs)})\n` : `${label} = ?\n`);
      show('oldest file', files[0]);
      show('newest file', files[files.length - 1]);
      return 0;
    }
    case 'index': {
      // sim-defined rendering of DiskLog.getIndex()
      const byFile = new Map<string, number[]>();
      for (const e of h.thl.entries()) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e.event.seqno]);
      io.out(`LogIndex: ${byFile.size} files\n`);
      for (const [f, s] of byFile) io.out(`  ${f} start seqno=${s[0]} end seqno=${s[s.length - 1]}\n`);
      return 0;
    }
    case 'list': {
      if (json && !headers) {
        io.out('Currently JSON output is supported only with -headers flag\n');
        return 1;
      }
      let entries = h.thl.entries();
      if (eventText !== undefined) {
        const found = lookupEvent(h, eventText);
        if (found.kind !== 'exact') return notFound(io, eventText, found);
        entries = [{ file: found.file, event: found.event }];
      } else if (file !== undefined) {
        if (!file.startsWith('thl.data.')) {
          io.out('File name must be a THL log file name like thl.data.0000000001\n');
          return 1;
        }
        entries = entries.filter((e) => e.file === file);
      } else {
        const lo = seqno ?? low;
        const hi = seqno ?? high;
        if (lo !== undefined && !entries.some((e) => e.event.seqno === lo)) {
          if (entries.length === 0) return 0; // "No events found; log is empty"
          io.err(`Unable to find sequence number: ${lo}\n`);
          return 1;
        }
        entries = entries.filter(
          (e) => (lo === undefined || e.event.seqno >= lo) && (hi === undefined || e.event.seqno <= hi),
        );
      }
      if (json) {
        const objs = entries.map(
          ({ event: e }) =>
            `{\n"seqno": ${e.seqno},\n"epoch": ${e.epoch},\n"frag": ${e.fragno},\n"lastFrag": ${e.lastFrag},\n` +
            `"time": "${e.time}",\n"eventId": "${e.eventid}",\n"sourceId": "${e.sourceid}",\n"comments": "${e.comments}"\n}`,
        );
        io.out(`[\n${objs.join(',\n')}\n]\n`);
        return 0;
      }
      for (const e of entries) {
        io.out(renderHeader(e.event, e.file, v, headers));
        if (!headers) io.out(renderBody(h, e.event));
      }
      return 0;
    }
    case 'dsctl': {
      if (v !== '7' || eventText === undefined) {
        io.out(`Unknown command: '${command}'\n`);
        io.out(thlHelp(v));
        return 1;
      }
      const found = lookupEvent(h, eventText);
      if (found.kind !== 'exact') return notFound(io, eventText, found);
      const e = found.event;
      io.out(
        `dsctl -service ${h.service} set -reset -seqno ${e.seqno} -epoch ${e.epoch} ` +
          `-event-id "${e.eventid.replace(/;-?\d+$/, '')}" -source-id "${e.sourceid}"\n`,
      );
      return 0;
    }
    case 'purge': {
      const r = h.replicator;
      if (r.running && !r.state.startsWith('OFFLINE') && r.state !== 'START') {
        io.out('Fatal error:  The disk log is not writable and cannot be purged.\n');
        io.out('If a replication service is currently running, please set the service\n');
        io.out("offline first using 'trepctl -service svc offline'\n");
        return 1;
      }
      io.out(
        'WARNING: The purge command will break replication if you delete all events or delete events that have not reached all slaves.\n',
      );
      if (!yes) {
        io.out('Are you sure you wish to delete these events [y/N]?\n');
        const answer = await io.readLine();
        if (!answer?.startsWith('y')) {
          io.out('Nothing done.\n');
          return 0;
        }
      }
      let log = 'Deleting events where';
      if (seqno === undefined) {
        // 7.x names the range it deletes (sim-defined); the 5.x code prints the bare prefix.
        const lo = low ?? (v === '7' ? Math.max(h.thl.minSeqno(), 0) : undefined);
        if (lo !== undefined) log += ` SEQ# >= ${lo}`;
        if (lo !== undefined && high !== undefined) log += ' and';
        if (high !== undefined) log += ` SEQ# <=${high}`;
        io.out(`${log}\n`);
        h.thl.purge(low, high);
      } else {
        io.out(`${log} SEQ# = ${seqno}\n`);
        h.thl.purge(seqno, seqno);
      }
      return 0;
    }
    default:
      io.out(`Unknown command: '${command}'\n`);
      io.out(thlHelp(v));
      return 1;
  }
}
