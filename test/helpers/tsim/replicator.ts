import mysql, { type Connection } from 'mysql2/promise';
import { eventIdOf } from './event-id';
import { javaTimestamp, type ThlEvent, type ThlLog } from './thl-log';
import { ensureTrepTable, readTrepRows, trepSchema, writeTrepRow } from './trep-table';

/** Replicator states as `trepctl status` names them. */
export type ReplicatorState =
  'START' | 'OFFLINE:NORMAL' | 'OFFLINE:ERROR' | 'GOING-ONLINE:SYNCHRONIZING' | 'ONLINE' | 'GOING-OFFLINE';

export type ReplicatorRole = 'master' | 'slave';

export interface PendingError {
  error: string;
  code: string;
  eventId: string;
  seqno: number;
  exception: string;
}

export interface ReplicatorContext {
  host: string;
  service: string;
  sourceId: string;
  thl: ThlLog;
  dbPort: number;
  channels: number;
  /** The replicator of the current primary (who a slave pulls from), undefined when none. */
  master(): Replicator | undefined;
}

/** One handshake point: what a slave sends the master when it connects. */
export interface ClientPoint {
  sourceId: string;
  seqno: number;
  epoch: number;
}

export class HandshakeError extends Error {
  readonly code = 'TSIM_HANDSHAKE';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The replicator of one host. A master stores what the cluster's write path hands it (extract);
 * a slave, when ONLINE, handshakes with the master, pulls THL into its own log and applies each
 * event to its MariaDB, updating trep_commit_seqno in the same transaction.
 */
export class Replicator {
  role: ReplicatorRole;
  state: ReplicatorState = 'START';
  stateSince = Date.now();
  readonly startedAt = Date.now();
  /** false while the replicator "process" is stopped (fault): trepctl cannot reach it. */
  running = true;
  /** master: the epoch it went online with (= max stored seqno then). */
  epoch = 0;
  masterHost: string | undefined;
  pending: PendingError | undefined;
  appliedLast: { seqno: number; eventId: string; latency: number } | undefined;
  /** Fault: the next handshake of this slave is refused with this epoch as the server's. */
  forceServerEpoch: number | undefined;
  /** Fault: each event waits this long before it is applied (slow replica). */
  applyDelayMs = 0;
  private loop: Promise<void> | undefined;
  private stopRequested = false;
  private skipSeqnos = new Set<number>();
  private wake: (() => void) | undefined;

  constructor(
    private readonly ctx: ReplicatorContext,
    role: ReplicatorRole,
  ) {
    this.role = role;
  }

  get sourceId(): string {
    return this.ctx.sourceId;
  }

  get channels(): number {
    return this.ctx.channels;
  }

  get thl(): ThlLog {
    return this.ctx.thl;
  }

  private setState(state: ReplicatorState): void {
    if (state !== this.state) {
      this.state = state;
      this.stateSince = Date.now();
    }
  }

  /** Called by the master's store path: a new event is there, pull now. */
  notify(): void {
    this.wake?.();
  }

  // ---- master side -------------------------------------------------------------------------

  /** Master: append an event for a committed transaction. */
  extract(pos: { file: string; offset: number }, sql: string, schema = ''): ThlEvent {
    const seqno = this.ctx.thl.maxSeqno() + 1;
    const event: ThlEvent = {
      seqno,
      fragno: 0,
      lastFrag: true,
      epoch: this.epoch,
      time: javaTimestamp(new Date()),
      eventid: eventIdOf(pos),
      sourceid: this.ctx.sourceId,
      comments: '',
      schema,
      sql: [sql],
    };
    this.ctx.thl.append(event);
    return event;
  }

  /**
   * Master: validate a connecting slave (the connector handshake validator's checks and texts).
   * Returns nothing when the slave may stream from seqno+1.
   */
  validate(client: ClientPoint, forcedEpoch?: number): void {
    const min = this.ctx.thl.minSeqno();
    const max = this.ctx.thl.maxSeqno();
    const found = client.seqno >= 0 ? this.ctx.thl.find(client.seqno) : undefined;
    if (found) {
      const serverEpoch = forcedEpoch ?? found.event.epoch;
      if (serverEpoch !== client.epoch)
        throw new HandshakeError(
          `Log epoch numbers do not match: client source ID=${client.sourceId} seqno=${client.seqno} ` +
            `server epoch number=${serverEpoch} client epoch number=${client.epoch}`,
        );
      return;
    }
    const next = this.ctx.thl.find(client.seqno + 1);
    const emptyAndFresh = max < 0 && client.seqno < 0;
    if (next || emptyAndFresh) {
      if (forcedEpoch !== undefined && forcedEpoch !== client.epoch)
        throw new HandshakeError(
          `Log epoch numbers do not match: client source ID=${client.sourceId} seqno=${client.seqno} ` +
            `server epoch number=${forcedEpoch} client epoch number=${client.epoch}`,
        );
      return;
    }
    throw new HandshakeError(
      `Master log does not contain requested transaction: client source ID=${client.sourceId} ` +
        `seqno=${client.seqno} epoch number=${client.epoch} master min seqno=${min} master max seqno=${max}`,
    );
  }

  // ---- both --------------------------------------------------------------------------------

  /** OFFLINE:NORMAL after START (process start). */
  boot(): void {
    this.running = true;
    this.setState('OFFLINE:NORMAL');
  }

  async online(options: { skipSeqno?: number[] } = {}): Promise<void> {
    if (this.state === 'ONLINE' || this.state === 'GOING-ONLINE:SYNCHRONIZING') return;
    for (const s of options.skipSeqno ?? []) this.skipSeqnos.add(s);
    this.pending = undefined;
    if (this.role === 'master') {
      // The epoch changes every time a master goes online: the seqno it went online at.
      this.epoch = Math.max(this.ctx.thl.maxSeqno(), 0);
      this.setState('ONLINE');
      return;
    }
    this.setState('GOING-ONLINE:SYNCHRONIZING');
    this.stopRequested = false;
    this.loop = this.runSlave().catch((err: unknown) => {
      this.fail({
        error: 'Stage task failed: q-to-dbms',
        code: 'NONE',
        eventId: 'NONE',
        seqno: -1,
        exception: err instanceof Error ? err.message : String(err),
      });
    });
  }

  async offline(): Promise<void> {
    if (this.state.startsWith('OFFLINE')) {
      // OFFLINE:ERROR → offline clears the error, as `trepctl offline` does.
      this.pending = undefined;
      this.setState('OFFLINE:NORMAL');
      return;
    }
    this.setState('GOING-OFFLINE');
    this.stopRequested = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    this.setState('OFFLINE:NORMAL');
  }

  /** The "process" dies: no goodbye, state is lost; trepctl cannot connect until restart(). */
  async kill(): Promise<void> {
    this.stopRequested = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    this.running = false;
    this.setState('START');
  }

  private fail(pending: PendingError): void {
    this.pending = pending;
    this.stopRequested = true;
    this.setState('OFFLINE:ERROR');
  }

  private async connect(): Promise<Connection> {
    return mysql.createConnection({
      host: '127.0.0.1',
      port: this.ctx.dbPort,
      user: 'root',
      connectTimeout: 3000,
      multipleStatements: false,
    });
  }

  /** Slave: restart point from trep_commit_seqno (OSS SqlCommitSeqno rules), handshake, stream. */
  private async runSlave(): Promise<void> {
    let conn: Connection | undefined;
    try {
      try {
        conn = await this.connect();
      } catch (err) {
        this.fail({
          error: 'Stage task failed: q-to-dbms',
          code: 'NONE',
          eventId: 'NONE',
          seqno: -1,
          exception: `java.sql.SQLNonTransientConnectionException: ${(err as Error).message}`,
        });
        return;
      }
      let rows = await readTrepRows(conn, this.ctx.service);
      if (rows === undefined) {
        // The replicator creates its catalog when it is missing: an empty restart point.
        await ensureTrepTable(conn, this.ctx.service);
        rows = [];
      }
      if (rows.length > 1 && rows.length !== this.ctx.channels) {
        this.fail({
          error: 'Stage task failed: q-to-dbms',
          code: 'NONE',
          eventId: 'NONE',
          seqno: -1,
          exception: `Rows in trep_commit_seqno are inconsistent with channel count: channels=${this.ctx.channels} rows=${rows.length}`,
        });
        return;
      }
      if (rows.length === 1 && this.ctx.channels > 1) {
        // SqlCommitSeqno.initialize: one row (e.g. after `dsctl set`) is copied to every channel.
        const [only] = rows;
        for (let task = 1; task < this.ctx.channels; task++)
          await writeTrepRow(conn, this.ctx.service, {
            taskId: task,
            seqno: only?.seqno ?? -1,
            fragno: only?.fragno ?? 0,
            lastFrag: only?.last_frag === '1',
            sourceId: only?.source_id ?? '',
            epoch: only?.epoch_number ?? -1,
            eventId: only?.eventid ?? '',
          });
        rows = (await readTrepRows(conn, this.ctx.service)) ?? rows;
      }
      // Each channel applies the events of its shard (seqno modulo channels here, sim-defined)
      // past its own row; the restart point is the lowest row.
      const channelSeqno = new Map(rows.map((r) => [r.task_id, r.seqno ?? -1]));
      const restart = rows.reduce<(typeof rows)[number] | undefined>(
        (lo, r) => (lo === undefined || (r.seqno ?? -1) < (lo.seqno ?? -1) ? r : lo),
        undefined,
      );
      let appliedSeqno = restart?.seqno ?? -1;
      this.appliedLast =
        restart && restart.seqno !== null
          ? { seqno: restart.seqno, eventId: restart.eventid ?? 'NONE', latency: 0 }
          : undefined;
      const restartEpoch = restart?.epoch_number ?? -1;
      const local = this.ctx.thl.last();
      const point: ClientPoint = local
        ? { sourceId: this.ctx.sourceId, seqno: local.seqno, epoch: local.epoch }
        : { sourceId: this.ctx.sourceId, seqno: appliedSeqno, epoch: restartEpoch };

      // Connect to the master: keep trying while it is not there (GOING-ONLINE:SYNCHRONIZING).
      let master = this.ctx.master();
      while (
        !this.stopRequested &&
        (!master || master === this || master.state !== 'ONLINE' || !master.running)
      ) {
        await this.idle(200);
        master = this.ctx.master();
      }
      if (this.stopRequested || !master) return;
      this.masterHost = master.ctx.host;
      try {
        const forced = this.forceServerEpoch;
        this.forceServerEpoch = undefined;
        master.validate(point, forced);
      } catch (err) {
        if (!(err instanceof HandshakeError)) throw err;
        this.fail({
          error: 'Event extraction failed',
          code: 'NONE',
          eventId: 'NONE',
          seqno: -1,
          exception: `Client handshake failure: Client response validation failed: ${err.message}`,
        });
        return;
      }
      this.setState('ONLINE');

      while (!this.stopRequested) {
        // remote-to-thl: pull what the master has beyond our log.
        const current = this.ctx.master();
        if (current && current.running && current.state === 'ONLINE' && current !== this) {
          const have = this.ctx.thl.maxSeqno();
          const from = have >= 0 ? have : point.seqno;
          for (const e of current.thl.events()) if (e.seqno > from) this.ctx.thl.append(e);
        }
        // q-to-dbms: apply from the local log past the restart point.
        for (const event of this.ctx.thl.events()) {
          if (this.stopRequested) break;
          if (event.seqno <= appliedSeqno) continue;
          const task = event.seqno % this.ctx.channels;
          if (appliedSeqno >= 0 && event.seqno > appliedSeqno + 1) {
            // sim-defined: the local log does not hold the next event to apply.
            this.fail({
              error: 'Stage task failed: q-to-dbms',
              code: 'NONE',
              eventId: 'NONE',
              seqno: -1,
              exception: `Unable to find sequence number ${appliedSeqno + 1} in the local log (next stored seqno=${event.seqno})`,
            });
            return;
          }
          if (event.seqno > (channelSeqno.get(task) ?? -1)) {
            const ok = await this.apply(conn, event, task);
            if (!ok) return;
            channelSeqno.set(task, event.seqno);
          }
          appliedSeqno = event.seqno;
        }
        await this.idle(100);
      }
    } finally {
      await conn?.end().catch(() => undefined);
    }
  }

  private async apply(conn: Connection, event: ThlEvent, task: number): Promise<boolean> {
    if (this.applyDelayMs > 0) await sleep(this.applyDelayMs);
    const latency = Math.max(0, (Date.now() - Date.parse(`${event.time.replace(' ', 'T')}Z`)) / 1000);
    try {
      await conn.query('BEGIN');
      if (!this.skipSeqnos.delete(event.seqno)) {
        if (event.schema) await conn.query(`USE \`${event.schema}\``);
        for (const sql of event.sql) await conn.query(sql);
      }
      await writeTrepRow(conn, this.ctx.service, {
        taskId: task,
        seqno: event.seqno,
        fragno: event.fragno,
        lastFrag: event.lastFrag,
        sourceId: event.sourceid,
        epoch: event.epoch,
        eventId: event.eventid,
        appliedLatency: Math.round(latency),
      });
      await conn.query('COMMIT');
      this.appliedLast = { seqno: event.seqno, eventId: event.eventid, latency };
      return true;
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      const e = err as { code?: string; message?: string };
      const javaClass =
        e.code === 'ER_DUP_ENTRY'
          ? 'java.sql.SQLIntegrityConstraintViolationException'
          : e.code === 'ER_NO_SUCH_TABLE' && String(e.message).includes(trepSchema(this.ctx.service))
            ? 'java.sql.SQLSyntaxErrorException'
            : 'java.sql.SQLException';
      this.fail({
        error: `Event application failed: seqno=${event.seqno} fragno=${event.fragno} message=java.sql.SQLException: Statement failed on slave but succeeded on master`,
        code: 'NONE',
        eventId: event.eventid,
        seqno: event.seqno,
        exception: `${javaClass}: ${e.message ?? String(err)}`,
      });
      return false;
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = undefined;
    });
  }

  /** For trepctl: the slave's applied position, or the master's stored one. */
  appliedSeqno(): number {
    if (this.role === 'master') return this.ctx.thl.maxSeqno();
    return this.appliedLast?.seqno ?? -1;
  }
}
