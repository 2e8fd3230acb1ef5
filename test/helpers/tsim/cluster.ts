import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { closedPort } from '../blackhole';
import { shareWithSshUser, sshUser, startSshd, type TestSshd } from '../sshd';
import { writeBinScripts, writeCctrl } from './bin-scripts';
import { dsctl } from './cli-dsctl';
import { startCliServer, type CliServer } from './cli-server';
import { thl } from './cli-thl';
import { trepctl } from './cli-trepctl';
import type { HostRuntime, ThlVersion } from './host-runtime';
import { dbCommand, killDb, prepareDb, run, type DbInstance } from './mariadb-host';
import { Manager } from './manager';
import { Replicator } from './replicator';
import { ThlLog, type ThlEvent } from './thl-log';
import { ensureTrepTable, trepSchema } from './trep-table';
import { writePath } from './write-path';

export interface TsimHost {
  name: string;
  /** its own sshd; stop it to make the host unreachable */
  sshd: TestSshd;
  /** its own mariadbd on 127.0.0.1 (binlog on, own server_id), root without password */
  mariadbPort: number;
  /** trepctl, thl, dsctl, cctrl, tpm and tsim-db, runnable over SSH without PATH */
  binDir: string;
  /** tungsten home; THL in `${home}/thl/${service}/thl.data.%010d` */
  home: string;
  /** the replicator's source id (sourceIdOf(name); default the name) */
  sourceId: string;
}

export interface TsimFaults {
  stopSshd(host: string): Promise<void>;
  stopManager(): Promise<void>;
  startManager(): Promise<void>;
  /** THL retention on the primary: its min seq# rises to `seqno`. */
  purgePrimaryThlBelow(seqno: number): Promise<void>;
  /** New primary, new epoch (= seqno at which it went online), new source id. */
  failover(to: string): Promise<void>;
  /** The next handshake of `host`'s replicator is answered with this server epoch. */
  wrongEpochOnNextHandshake(host: string, serverEpoch: number): Promise<void>;
  /** Stop/resume the primary's trep_commit_seqno updates (its row then lags its binlog, as in the docs' example). */
  holdPrimaryTrep(hold: boolean): Promise<void>;
  /** `dsctl set -reset` on `host` drops the table and dies (exit 137) before setting. */
  crashAfterDsctlReset(host: string): Promise<void>;
  /** The replicator process dies (trepctl: connection refused) / starts again (then goes ONLINE). */
  killReplicator(host: string): Promise<void>;
  startReplicator(host: string): Promise<void>;
  stopDb(host: string): Promise<void>;
  startDb(host: string): Promise<void>;
  /** `tsim-db start` fails while set (MariaDB won't start after restore). */
  breakDbStart(host: string, broken: boolean): Promise<void>;
  /** Each event `host` applies waits this long first (0 turns it off). */
  slowApply(host: string, delayMs: number): Promise<void>;
  /** Golden fixtures: append a hand-made event to a host's THL (optionally starting file `newFile`). */
  appendThlEvent(host: string, event: ThlEvent, options?: { newFile?: number }): Promise<void>;
}

export interface TsimCluster {
  service: string;
  hosts: TsimHost[];
  primary(): TsimHost;
  /** Run the workload on the primary through the replicator's write path. */
  write(sql: string, params?: unknown[]): Promise<{ seqno: number; position: string }>;
  /** Wait until every ONLINE replica applied everything. */
  waitForCatchUp(timeoutMs?: number): Promise<void>;
  /** mariadb-dump --master-data=2 of a host; position = the one its header names (unpadded). */
  backup(
    host: string,
    options?: { withoutTungstenSchema?: boolean },
  ): Promise<{ file: string; position: string }>;
  faults: TsimFaults;
  mysql(host: string, sql: string, params?: unknown[]): Promise<unknown[]>;
  /** The replicator state of a host (test-side shortcut for `trepctl status`). */
  replicatorState(host: string): string;
  manager: Manager;
  close(): Promise<void>;
}

export interface TsimOptions {
  service?: string;
  replicas?: number;
  thlVersion?: ThlVersion;
  sourceIdOf?: (host: string) => string;
  /** Parallel apply channels on the replicas (rows in trep_commit_seqno); default 1. */
  channels?: number;
}

interface HostParts extends TsimHost {
  dir: string;
  db: DbInstance;
  runtime: HostRuntime;
  agent: CliServer;
  sshdStopped: boolean;
}

const live = new Set<HostParts[]>();
// A jest worker that dies mid-file must not leave mariadbds behind.
process.once('exit', () => {
  for (const hosts of live) for (const h of hosts) killDb(h.db);
});

async function connectTo(port: number): Promise<Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 3000 });
}

async function dbAlive(port: number): Promise<boolean> {
  try {
    const c = await connectTo(port);
    await c.end();
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startTungstenCluster(options: TsimOptions = {}): Promise<TsimCluster> {
  const service = options.service ?? 'alpha';
  const version = options.thlVersion ?? '7';
  const sourceIdOf = options.sourceIdOf ?? ((h: string) => h);
  const names = Array.from({ length: (options.replicas ?? 2) + 1 }, (_, i) => `host${i + 1}`);
  const root = mkdtempSync(join(tmpdir(), 'recover-tsim-'));
  const user = sshUser();
  if (user.dedicated) chownSync(root, user.uid, user.gid);
  const hosts: HostParts[] = [];
  live.add(hosts);
  let primaryName = names[0] as string;
  let holdTrep = false;
  let manager: Manager | undefined;
  let managerServer: CliServer | undefined;
  let managerPort = 0;
  const replicatorOf = (name: string) => hosts.find((h) => h.name === name)?.runtime.replicator;
  const part = (name: string): HostParts => {
    const h = hosts.find((x) => x.name === name);
    if (!h) throw new Error(`tsim: no host ${name}`);
    return h;
  };

  const startManagerServer = async (port?: number) => {
    const m = manager as Manager;
    const handler = (tool: string, argv: string[], io: Parameters<Manager['cctrl']>[1]) =>
      tool === 'cctrl' ? m.cctrl(argv, io) : Promise.resolve(127);
    managerServer = await startCliServer(handler, port);
    managerPort = managerServer.port;
  };

  const writes = writePath({
    service,
    primary: () => part(primaryName),
    runtimes: () => hosts.map((h) => h.runtime),
    holdTrep: () => holdTrep,
    connect: connectTo,
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await writes.close();
    for (const h of hosts) await h.runtime.replicator.kill().catch(() => undefined);
    await managerServer?.close();
    for (const h of hosts) {
      await h.agent.close();
      const r = await dbCommand(h.db, 'stop');
      if (r.code !== 0) killDb(h.db);
      if (!h.sshdStopped) await h.sshd.stop();
    }
    live.delete(hosts);
    rmSync(root, { recursive: true, force: true });
  };

  try {
    for (const [i, name] of names.entries()) {
      const dir = join(root, name);
      const home = join(dir, 'tungsten');
      const binDir = join(dir, 'bin');
      mkdirSync(home, { recursive: true });
      mkdirSync(binDir, { recursive: true });
      mkdirSync(join(dir, 'backups'), { recursive: true });
      // sshd first: it is the part most likely missing on a new machine, and a host's parts are
      // only closed by close() once the host is in `hosts` (below).
      const sshd = await startSshd();
      let db: DbInstance | undefined;
      let agent: CliServer | undefined;
      try {
        const port = await closedPort();
        db = await prepareDb(dir, binDir, port, i + 1);
        const started = await dbCommand(db, 'start');
        if (started.code !== 0) throw new Error(`tsim: mariadbd of ${name} did not start: ${started.stderr}`);
        const thlLog = new ThlLog(join(home, 'thl', service));
        const runtime: HostRuntime = {
          name,
          service,
          sourceId: sourceIdOf(name),
          home,
          thl: thlLog,
          replicator: undefined as unknown as Replicator,
          dbPort: port,
          thlVersion: version,
          connect: () => connectTo(port),
          primaryName: () => primaryName,
          faults: { crashAfterReset: false },
        };
        runtime.replicator = new Replicator(
          {
            host: name,
            service,
            sourceId: runtime.sourceId,
            thl: thlLog,
            dbPort: port,
            channels: name === names[0] ? 1 : (options.channels ?? 1),
            master: () => replicatorOf(primaryName),
          },
          name === primaryName ? 'master' : 'slave',
        );
        agent = await startCliServer(async (tool, argv, io) => {
          if (tool === 'trepctl') return trepctl(runtime, argv, io);
          if (tool === 'thl') return thl(runtime, argv, io);
          if (tool === 'dsctl') return dsctl(runtime, argv, io);
          io.err(`${tool}: not simulated\n`);
          return 127;
        });
        hosts.push({
          name,
          sshd,
          mariadbPort: port,
          binDir,
          home,
          sourceId: runtime.sourceId,
          dir,
          db,
          runtime,
          agent,
          sshdStopped: false,
        });
      } catch (err) {
        await agent?.close();
        if (db) killDb(db);
        await sshd.stop();
        throw err;
      }
      const c = await connectTo(hosts[hosts.length - 1]!.mariadbPort);
      try {
        await ensureTrepTable(c, service);
      } finally {
        await c.end();
      }
    }
    manager = new Manager({
      service,
      version,
      hosts: () =>
        hosts.map((h) => ({
          name: h.name,
          replicator: h.runtime.replicator,
          dbAlive: () => dbAlive(h.mariadbPort),
        })),
      primaryName: () => primaryName,
    });
    await startManagerServer();
    for (const h of hosts) {
      writeBinScripts(h.binDir, h.agent.port, managerPort, h.mariadbPort);
      shareWithSshUser(h.dir);
    }
    for (const h of hosts) h.runtime.replicator.boot();
    await part(primaryName).runtime.replicator.online();
    for (const h of hosts) if (h.name !== primaryName) await h.runtime.replicator.online();
    for (const h of hosts) {
      for (let i = 0; i < 200 && h.runtime.replicator.state !== 'ONLINE'; i++) await sleep(25);
      if (h.runtime.replicator.state !== 'ONLINE')
        throw new Error(`tsim: replicator of ${h.name} is ${h.runtime.replicator.state}`);
    }
    await writes.start();
  } catch (err) {
    await close();
    throw err;
  }

  const cluster: TsimCluster = {
    service,
    hosts,
    manager: manager as Manager,
    primary: () => part(primaryName),
    write: writes.write,
    waitForCatchUp: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const target = part(primaryName).runtime.thl.maxSeqno();
        const behind = hosts.filter((h) => {
          const r = h.runtime.replicator;
          return h.name !== primaryName && r.running && r.state === 'ONLINE' && r.appliedSeqno() < target;
        });
        if (behind.length === 0) return;
        if (Date.now() > deadline)
          throw new Error(
            `tsim: replicas did not catch up to seqno ${target}: ` +
              behind.map((h) => `${h.name}=${h.runtime.replicator.appliedSeqno()}`).join(', '),
          );
        await sleep(20);
      }
    },
    backup: async (host, backupOptions = {}) => {
      const h = part(host);
      const c = await connectTo(h.mariadbPort);
      let dbs: string[];
      try {
        const [rows] = await c.query<RowDataPacket[]>('SHOW DATABASES');
        dbs = rows
          .map((r) => String(r.Database))
          .filter((d) => !['mysql', 'information_schema', 'performance_schema', 'sys'].includes(d))
          .filter((d) => !(backupOptions.withoutTungstenSchema && d === trepSchema(service)));
      } finally {
        await c.end();
      }
      const file = join(h.dir, 'backups', `backup-${Date.now()}.sql`);
      const r = await run('/usr/bin/mariadb-dump', [
        '--protocol=TCP',
        '-h',
        '127.0.0.1',
        '-P',
        String(h.mariadbPort),
        '-u',
        'root',
        '--single-transaction',
        '--master-data=2',
        '--add-drop-database',
        `--result-file=${file}`,
        '--databases',
        ...dbs,
      ]);
      if (r.code !== 0) throw new Error(`tsim: mariadb-dump of ${host} failed: ${r.stderr}`);
      const text = readFileSync(file, 'utf8');
      const m = /CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+)/.exec(text);
      if (!m) throw new Error('tsim: the dump names no binlog position');
      if (backupOptions.withoutTungstenSchema)
        // A full (datadir) restore of a backup without the schema leaves none: model that in the dump.
        writeFileSync(
          file,
          `-- tsim: backup taken without ${trepSchema(service)}\nDROP DATABASE IF EXISTS \`${trepSchema(service)}\`;\n${text}`,
        );
      shareWithSshUser(file);
      return { file, position: `${m[1]}:${m[2]}` };
    },
    mysql: async (host, sql, params = []) => {
      const c = await connectTo(part(host).mariadbPort);
      try {
        const [rows] = await c.query(sql, params);
        return Array.isArray(rows) ? (rows as unknown[]) : [rows];
      } finally {
        await c.end();
      }
    },
    replicatorState: (host) => part(host).runtime.replicator.state,
    faults: {
      stopSshd: async (host) => {
        const h = part(host);
        if (!h.sshdStopped) await h.sshd.stop();
        h.sshdStopped = true;
      },
      stopManager: async () => {
        await managerServer?.close();
        managerServer = undefined;
      },
      startManager: async () => {
        if (managerServer) return;
        await startManagerServer(managerPort).catch(() => startManagerServer());
        for (const h of hosts) writeCctrl(h.binDir, managerPort);
      },
      purgePrimaryThlBelow: async (seqno) => {
        part(primaryName).runtime.thl.purge(undefined, seqno - 1);
      },
      failover: async (to) => {
        const old = part(primaryName);
        const next = part(to);
        // Like a real failover, the new master first applies what it already received.
        const target = next.runtime.thl.maxSeqno();
        for (let i = 0; i < 500 && next.runtime.replicator.state === 'ONLINE'; i++) {
          if (next.runtime.replicator.appliedSeqno() >= target) break;
          await sleep(20);
        }
        await old.runtime.replicator.offline();
        old.runtime.replicator.role = 'slave';
        manager?.setState(old.name, { kind: 'SHUNNED', reason: `FAILED-OVER-TO-${to}` });
        await next.runtime.replicator.offline();
        next.runtime.replicator.role = 'master';
        primaryName = to;
        writes.drop();
        await next.runtime.replicator.online();
        for (const h of hosts) {
          if (h.name === to || h.name === old.name) continue;
          const r = h.runtime.replicator;
          if (r.state === 'ONLINE' || r.state === 'GOING-ONLINE:SYNCHRONIZING') {
            await r.offline();
            await r.online();
          }
        }
      },
      wrongEpochOnNextHandshake: async (host, serverEpoch) => {
        part(host).runtime.replicator.forceServerEpoch = serverEpoch;
      },
      holdPrimaryTrep: async (hold) => {
        holdTrep = hold;
      },
      crashAfterDsctlReset: async (host) => {
        part(host).runtime.faults.crashAfterReset = true;
      },
      killReplicator: async (host) => part(host).runtime.replicator.kill(),
      startReplicator: async (host) => {
        const r = part(host).runtime.replicator;
        r.boot();
        if (manager?.state(host).kind !== 'SHUNNED') await r.online();
      },
      stopDb: async (host) => {
        // The write path's connection dies with the server: the next write or extraction reconnects.
        if (host === primaryName) writes.drop();
        const r = await dbCommand(part(host).db, 'stop');
        if (r.code !== 0) throw new Error(`tsim: tsim-db stop on ${host}: ${r.stderr}`);
      },
      startDb: async (host) => {
        const r = await dbCommand(part(host).db, 'start');
        if (r.code !== 0) throw new Error(`tsim: tsim-db start on ${host}: ${r.stderr}`);
      },
      breakDbStart: async (host, broken) => {
        const flag = part(host).db.brokenFlag;
        if (broken) writeFileSync(flag, 'broken\n');
        else rmSync(flag, { force: true });
      },
      slowApply: async (host, delayMs) => {
        part(host).runtime.replicator.applyDelayMs = delayMs;
      },
      appendThlEvent: async (host, event, appendOptions) => {
        part(host).runtime.thl.append(event, appendOptions);
      },
    },
    close,
  };
  return cluster;
}
