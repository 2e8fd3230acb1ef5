import type { Connection } from 'mysql2/promise';
import type { CliIo } from './cli-server';
import type { HostRuntime, ThlVersion } from './host-runtime';
import { ensureTrepTable, readTrepRows, trepSchema, writeTrepRow } from './trep-table';

/** DsctlCtrl.printHelp (5.x); 7.x documents `set -reset` (sim-defined wording of that line). */
export function dsctlHelp(v: ThlVersion): string {
  const lines = [
    'Datasource Utility',
    'Syntax: dsctl [conf|service] [-ds name] [operation]',
    "Configuration (required if there's more than one service):",
    '  -conf path       - Path to a static-<svc>.properties file',
    '     OR            ',
    '  -service name    - Name of a replication service to get datasource configuration from',
    'Options:',
    ' [-ds name]        - Name of the datasource (default: global)',
    'Operations:',
    '  get              - Return all available position information',
    '  set -seqno ###   - Set position (all four parameters required)',
    '      -epoch ###',
    '      -event-id AAAAAAAAA.######:#######',
    '      -source-id AAA.AAA.AAA',
    ...(v === '7' ? ['      [-reset]     - Clear datasource position information before setting it'] : []),
    '  reset            - Clear datasource position information',
    '  help             - Print this help display',
  ];
  return `${lines.join('\n')}\n`;
}

class DsctlError extends Error {
  readonly code = 'TSIM_DSCTL';
}

/** The catalog drop `dsctl reset` does: not binlogged (the replicator's own bookkeeping). */
async function dropTable(conn: Connection, service: string): Promise<void> {
  await conn.query('SET SESSION sql_log_bin = 0');
  await conn.query(`DROP TABLE IF EXISTS \`${trepSchema(service)}\`.trep_commit_seqno`);
  await conn.query('SET SESSION sql_log_bin = 1');
}

/** `dsctl [-service s] [-ds name] get | set [-reset] -seqno -epoch -event-id -source-id | reset | help`. */
export async function dsctl(h: HostRuntime, argv: string[], io: CliIo): Promise<number> {
  const v = h.thlVersion;
  if (argv.length === 0) {
    io.out(dsctlHelp(v));
    return 0;
  }
  let service: string | undefined;
  let ds = 'global';
  let command: string | undefined;
  let seqno: number | undefined;
  let epoch: number | undefined;
  let eventId: string | undefined;
  let sourceId: string | undefined;
  let reset = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const num = (): number => {
      const text = argv[++i];
      if (text === undefined || !/^-?\d+$/.test(text))
        throw new DsctlError(`For input string: "${text ?? 'null'}"`);
      return Number(text);
    };
    try {
      if (a === '-conf') i++;
      else if (a === '-service') service = argv[++i];
      else if (a === '-ds') ds = argv[++i] ?? ds;
      else if (a === '-seqno') seqno = num();
      else if (a === '-epoch') epoch = num();
      else if (a === '-event-id') eventId = argv[++i];
      else if (a === '-source-id') sourceId = argv[++i];
      else if (a === '-reset' && v === '7') reset = true;
      else if (a.startsWith('-')) {
        io.err(`Unrecognized option: ${a}\n`);
        return 1;
      } else command = a;
    } catch (err) {
      io.err(`${(err as Error).message}\n`);
      return 4; // NumberFormatException reaches main's catch-all
    }
  }
  if (command === undefined) {
    io.err("No command entered: try 'help' to get a list\n");
    return 1;
  }
  if (command === 'help') {
    io.out(dsctlHelp(v));
    return 0;
  }
  const svc = service ?? h.service;
  if (svc !== h.service) {
    io.err(`Unable to read configuration file static-${svc}.properties\n`);
    return 2;
  }
  if (!['get', 'set', 'reset'].includes(command)) {
    io.err(`Unrecognized command, try 'help' to get a list: ${command}\n`);
    return 1;
  }
  if (
    command === 'set' &&
    (seqno === undefined || epoch === undefined || eventId === undefined || sourceId === undefined)
  ) {
    io.err("Command 'set' requires options -seqno, -epoch, -event-id and -source-id\n");
    return 1;
  }
  let conn: Connection;
  try {
    conn = await h.connect();
  } catch (err) {
    io.err(`Unable to connect to DBMS: ${(err as Error).message}\n`);
    return 3;
  }
  try {
    if (command === 'reset') {
      await dropTable(conn, svc);
      io.out(`Service "${svc}" datasource "${ds}" catalog information cleared\n`);
      return 0;
    }
    if (command === 'get') {
      const rows = await readTrepRows(conn, svc);
      if (rows === undefined) {
        io.err('Position headers have not been retrieved\n');
        return 6;
      }
      const json = rows.map((r) => ({
        last_frag: r.last_frag === '1',
        seqno: r.seqno,
        shard_id: r.shard_id,
        applied_latency: r.applied_latency,
        epoch_number: r.epoch_number,
        update_timestamp: r.update_timestamp
          ? r.update_timestamp.toISOString().replace('T', ' ').replace('Z', '')
          : null,
        fragno: r.fragno,
        extract_timestamp: r.extract_timestamp
          ? r.extract_timestamp.toISOString().replace('T', ' ').replace('Z', '')
          : null,
        source_id: r.source_id,
        eventid: r.eventid,
        task_id: r.task_id,
      }));
      io.out(`${JSON.stringify(json)}\n`);
      return 0;
    }
    // set
    if (reset) {
      await dropTable(conn, svc);
      if (h.faults.crashAfterReset) {
        h.faults.crashAfterReset = false;
        return 137; // killed between the drop and the insert: no output, table gone
      }
    }
    const existing = await readTrepRows(conn, svc);
    if (existing !== undefined && existing.length > 0) {
      io.err('Cannot set position unless existing position data is removed - reset first\n');
      return 3;
    }
    try {
      await ensureTrepTable(conn, svc);
      await conn.query('SET SESSION sql_log_bin = 0');
      await writeTrepRow(conn, svc, {
        seqno: seqno as number,
        fragno: -1,
        lastFrag: true,
        sourceId: sourceId as string,
        epoch: epoch as number,
        eventId: eventId as string,
      });
      await conn.query('SET SESSION sql_log_bin = 1');
    } catch (err) {
      io.err(
        `FAILED to set position of service "${svc}" datasource "${ds}" to: seqno=${seqno} epoch_number=${epoch} ` +
          `eventid=${eventId} source_id=${sourceId}\n${(err as Error).message}\n`,
      );
      return 7;
    }
    io.out(
      `Service "${svc}" datasource "${ds}" position was set to: seqno=${seqno} epoch_number=${epoch} ` +
        `eventid=${eventId} source_id=${sourceId}\n`,
    );
    return 0;
  } catch (err) {
    io.err(`${(err as Error).message}\n`);
    return command === 'reset' ? 5 : 3;
  } finally {
    await conn.end().catch(() => undefined);
  }
}
