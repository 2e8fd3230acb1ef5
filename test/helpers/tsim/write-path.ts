import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { binlogSince } from './binlog-extract';
import { plainPosition } from './event-id';
import type { HostRuntime } from './host-runtime';
import type { ThlEvent } from './thl-log';
import { writeTrepRow } from './trep-table';

export interface WritePathDeps {
  service: string;
  /** The current primary: its MariaDB port and its replicator (which assigns seqnos). */
  primary(): { mariadbPort: number; runtime: HostRuntime };
  /** Every host's runtime, to tell their replicators that the THL grew. */
  runtimes(): HostRuntime[];
  /** While true, the primary's own trep_commit_seqno row is not written (a fault). */
  holdTrep(): boolean;
  connect(port: number): Promise<Connection>;
}

export interface WritePath {
  /** Follow the primary's binlog from where it is now (a timer extracts writes made around us). */
  start(): Promise<void>;
  /** A write on the primary, extracted into the THL at once. */
  write(sql: string, params?: unknown[]): Promise<{ seqno: number; position: string }>;
  /** Forget the connection (the primary changed, or its server is stopping): the next call reconnects. */
  drop(): void;
  close(): Promise<void>;
}

/**
 * The primary's side of the simulated replicator: writes through `write()` and writes made
 * straight on the primary (found in its binlog, binlog-extract.ts) become THL events in binlog
 * order, one at a time on one connection.
 */
export function writePath(d: WritePathDeps): WritePath {
  let conn: Connection | undefined;
  /** The primary's binlog position extracted last: what lies past it came from outside write(). */
  let extractedTo: { file: string; offset: number } | undefined;
  /** write() and the extraction timer, one after another. */
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const masterStatus = async (c: Connection) => {
    const [status] = await c.query<RowDataPacket[]>('SHOW MASTER STATUS');
    return { file: String(status[0]?.File), offset: Number(status[0]?.Position) };
  };
  const connection = async (): Promise<Connection> => {
    if (!conn) {
      conn = await d.connect(d.primary().mariadbPort);
      extractedTo = undefined;
    }
    extractedTo ??= await masterStatus(conn);
    return conn;
  };
  const drop = () => {
    const dead = conn;
    conn = undefined;
    dead?.destroy();
  };
  /**
   * Runs `fn` on the connection; any error drops it so the next call reconnects. A connection
   * opened by the extraction timer while the server was stopping is dead once it stops, and
   * would otherwise fail every later write. Calls are serialized on `chain`, so the connection
   * in use is still `conn`.
   */
  const onPrimary = async <T>(fn: (c: Connection) => Promise<T>): Promise<T> => {
    try {
      return await fn(await connection());
    } catch (err) {
      drop();
      throw err;
    }
  };
  const recordPrimaryTrep = async (c: Connection, event: ThlEvent) => {
    // The master's own restart point: written after extraction, never binlogged.
    if (d.holdTrep()) return;
    await c.query('SET SESSION sql_log_bin = 0');
    await writeTrepRow(c, d.service, {
      seqno: event.seqno,
      fragno: 0,
      lastFrag: true,
      sourceId: event.sourceid,
      epoch: event.epoch,
      eventId: event.eventid,
    });
    await c.query('SET SESSION sql_log_bin = 1');
  };
  const notifyAll = () => {
    for (const r of d.runtimes()) r.replicator.notify();
  };
  /** Writes on the primary that did not come through write(), in binlog order. */
  const extractForeign = async () => {
    if (closed) return;
    await onPrimary(async (c) => {
      const { transactions, to } = await binlogSince(c, extractedTo!);
      const { runtime } = d.primary();
      for (const t of transactions) {
        const event = runtime.replicator.extract(t.end, t.statements.join(';\n'), t.schema);
        extractedTo = t.end;
        await recordPrimaryTrep(c, event);
      }
      extractedTo = to;
      if (transactions.length > 0) notifyAll();
    });
  };

  return {
    async start() {
      await connection();
      timer = setInterval(() => {
        chain = chain.then(extractForeign).catch(() => undefined);
      }, 100);
    },
    write(sql, params = []) {
      const next = chain.then(async () => {
        await extractForeign();
        const { runtime } = d.primary();
        return onPrimary(async (c) => {
          const statement = mysql.format(sql, params as Parameters<typeof mysql.format>[1]);
          await c.query(statement);
          const at = await masterStatus(c);
          const event = runtime.replicator.extract(at, statement);
          extractedTo = at;
          await recordPrimaryTrep(c, event);
          notifyAll();
          return { seqno: event.seqno, position: plainPosition(at) };
        });
      });
      chain = next.catch(() => undefined);
      return next;
    },
    drop,
    async close() {
      closed = true;
      clearInterval(timer);
      await chain.catch(() => undefined);
      await conn?.end().catch(() => undefined);
      conn = undefined;
    },
  };
}
