import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { closedPort } from './blackhole';
import { postmasterPid, processTree } from './pg-process';
import { ownByPgUser, PG_BIN, pgTemplate, runAsPgUser } from './pg-template';
import { sshUser } from './sshd';

/** One PostgreSQL instance of a test cluster. */
export interface PgNode {
  name: string;
  port: number;
  dataDir: string;
  logFile: string;
  /** libpq keywords other nodes stream from it with (no password: trust on loopback). */
  conninfo: string;
}

export type NodeRef = PgNode | string;

export interface PgCluster {
  root: string;
  archiveDir: string;
  socketDir: string;
  /** The user every node runs as and tests log in as (a superuser of each cluster). */
  user: string;
  primary: PgNode;
  standbys: PgNode[];
  /** Allocated but empty and stopped (options.empty); also in `nodes`. */
  empty: PgNode[];
  nodes: PgNode[];
  node(ref: NodeRef): PgNode;
  /** Run one statement on a node over TCP (fresh session, `$1` parameters); returns its rows. */
  psql(ref: NodeRef, sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** `pg_ctl stop -m immediate`: a crash, no shutdown checkpoint. */
  crash(ref: NodeRef): Promise<void>;
  /** SIGSTOP the postmaster and every process under it (PIDs from postmaster.pid and /proc). */
  hang(ref: NodeRef): void;
  resume(ref: NodeRef): void;
  /** primary_conninfo = '' + reload: the standby stops streaming, keeps reading the archive. */
  cutStreaming(ref: NodeRef): Promise<void>;
  /** chmod 500 on the WAL archive: archive_command fails (pg_stat_archiver.failed_count grows). */
  breakArchive(): void;
  repairArchive(): void;
  pauseReplay(ref: NodeRef): Promise<void>;
  resumeReplay(ref: NodeRef): Promise<void>;
  /** `pg_promote(true, 60)` on a standby. */
  promote(ref: NodeRef): Promise<void>;
  /** `pg_ctl start` as it is (an old primary comes back as a primary). */
  start(ref: NodeRef): Promise<void>;
  /** `pg_ctl stop -m fast`. */
  stopNode(ref: NodeRef): Promise<void>;
  isRunning(ref: NodeRef): boolean;
  /** Until every running standby has replayed the primary's current LSN. */
  waitForCatchUp(timeoutMs?: number): Promise<void>;
  /** Stop every instance with pg_ctl (never by process name) and delete the directory. */
  stop(): Promise<void>;
}

export interface PgClusterOptions {
  standbys?: number;
  /** Node names, primary first; default pg1, pg2, … */
  names?: string[];
  /**
   * Nodes of a data center still to be built: a port, an empty data directory (0700, owned by
   * the cluster user) and a log file path, never started; a runbook's clone step fills them.
   */
  empty?: string[];
}

const live = new Set<PgCluster>();
// A jest worker that dies mid-file must not leave postmasters behind: stop them synchronously.
process.once('exit', () => {
  for (const cluster of live)
    for (const node of cluster.nodes) {
      try {
        // A hung (SIGSTOPped) server would not even act on the immediate stop.
        cluster.resume(node);
      } catch {
        // not running, or not hung
      }
      try {
        execFileSync(join(PG_BIN, 'pg_ctl'), ['stop', '-m', 'immediate', '-t', '10', '-D', node.dataDir], {
          stdio: 'ignore',
          ...(sshUser().dedicated ? { uid: sshUser().uid, gid: sshUser().gid } : {}),
        });
      } catch {
        // not running
      }
    }
  for (const cluster of live) rmSync(cluster.root, { recursive: true, force: true });
});

const confLine = (key: string, value: string | number) =>
  `${key} = ${typeof value === 'number' ? value : `'${value.replace(/'/g, "''")}'`}\n`;

/** Node-local settings go at the end of postgresql.conf, where the last value wins. */
function appendConf(dataDir: string, settings: Record<string, string | number>): void {
  const lines = Object.entries(settings).map(([k, v]) => confLine(k, v));
  appendFileSync(join(dataDir, 'postgresql.conf'), `# node-local (pg-cluster.ts)\n${lines.join('')}`);
}

function cp(from: string, to: string): Promise<void> {
  // cp -a keeps the owner and the 0700 mode PostgreSQL insists on.
  return new Promise((resolve, reject) =>
    execFile('cp', ['-a', from, to], (err) => (err ? reject(err) : resolve())),
  );
}

export async function startPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const count = 1 + (options.standbys ?? 2);
  const names = options.names ?? Array.from({ length: count }, (_, i) => `pg${i + 1}`);
  if (names.length !== count) throw new Error(`need ${count} names, got ${names.length}`);
  const template = await pgTemplate();
  const user = sshUser().name;
  const root = mkdtempSync(join(tmpdir(), 'recover-pg-'));
  chmodSync(root, 0o755);
  ownByPgUser(root);
  const archiveDir = join(root, 'arch');
  const socketDir = join(root, 'sock');
  await runAsPgUser('/bin/mkdir', ['-m', '700', archiveDir, socketDir]);

  const nodes: PgNode[] = [];
  for (const name of [...names, ...(options.empty ?? [])]) {
    const port = await closedPort();
    nodes.push({
      name,
      port,
      dataDir: join(root, name),
      logFile: join(root, `${name}.log`),
      conninfo: `host=127.0.0.1 port=${port} user=${user}`,
    });
  }
  const [primary, ...standbys] = nodes.slice(0, count) as [PgNode, ...PgNode[]];
  const empty = nodes.slice(count);
  await Promise.all(empty.map((n) => runAsPgUser('/bin/mkdir', ['-m', '700', n.dataDir])));
  const hung = new Set<string>();

  const node = (ref: NodeRef): PgNode => {
    const name = typeof ref === 'string' ? ref : ref.name;
    const found = nodes.find((n) => n.name === name);
    if (!found) throw new Error(`no node ${name} in this cluster`);
    return found;
  };
  const pgCtl = (n: PgNode, args: string[]) =>
    runAsPgUser('pg_ctl', [...args, '-D', n.dataDir], { cwd: root, timeoutMs: 90_000 });
  const startNode = async (n: PgNode) => {
    await pgCtl(n, ['start', '-w', '-t', '60', '-l', n.logFile]);
  };
  const psql = async (ref: NodeRef, sql: string, params: unknown[] = []) => {
    const client = new Client({
      host: '127.0.0.1',
      port: node(ref).port,
      user,
      database: 'postgres',
      connectionTimeoutMillis: 5000,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as Record<string, unknown>[];
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const signalTree = (ref: NodeRef, signal: NodeJS.Signals) => {
    const pid = postmasterPid(node(ref));
    if (pid === null) throw new Error(`${node(ref).name} is not running`);
    for (const p of processTree(pid)) {
      try {
        process.kill(p, signal);
      } catch {
        // ended meanwhile
      }
    }
  };

  // Primary: the template copied, its own port, socket, name and archive.
  await cp(template, primary.dataDir);
  appendConf(primary.dataDir, {
    port: primary.port,
    unix_socket_directories: socketDir,
    cluster_name: primary.name,
    archive_command: `test ! -f ${archiveDir}/%f && cp %p ${archiveDir}/%f`,
  });
  await startNode(primary);

  const cluster: PgCluster = {
    root,
    archiveDir,
    socketDir,
    user,
    primary,
    standbys,
    empty,
    nodes,
    node,
    psql,
    crash: async (ref) => {
      await pgCtl(node(ref), ['stop', '-m', 'immediate', '-w']);
    },
    hang: (ref) => {
      signalTree(ref, 'SIGSTOP');
      hung.add(node(ref).name);
    },
    resume: (ref) => {
      signalTree(ref, 'SIGCONT');
      hung.delete(node(ref).name);
    },
    cutStreaming: async (ref) => {
      await psql(ref, "ALTER SYSTEM SET primary_conninfo = ''");
      await psql(ref, 'SELECT pg_reload_conf()');
    },
    breakArchive: () => chmodSync(archiveDir, 0o500),
    repairArchive: () => chmodSync(archiveDir, 0o700),
    pauseReplay: async (ref) => void (await psql(ref, 'SELECT pg_wal_replay_pause()')),
    resumeReplay: async (ref) => void (await psql(ref, 'SELECT pg_wal_replay_resume()')),
    promote: async (ref) => {
      const [row] = await psql(ref, 'SELECT pg_promote(true, 60) AS ok');
      if (row?.ok !== true) throw new Error(`${node(ref).name} did not promote within 60 s`);
    },
    start: (ref) => startNode(node(ref)),
    stopNode: async (ref) => void (await pgCtl(node(ref), ['stop', '-m', 'fast', '-w', '-t', '60'])),
    isRunning: (ref) => postmasterPid(node(ref)) !== null,
    waitForCatchUp: async (timeoutMs = 20_000) => {
      const [row] = await psql(primary, 'SELECT pg_current_wal_lsn()::text AS lsn');
      const target = String(row?.lsn);
      const deadline = Date.now() + timeoutMs;
      for (const s of standbys.filter((n) => cluster.isRunning(n))) {
        for (;;) {
          const [r] = await psql(s, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [target]);
          if (r?.done === true) break;
          if (Date.now() > deadline) throw new Error(`${s.name} did not replay ${target} in time`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
    stop: async () => {
      if (existsSync(archiveDir)) chmodSync(archiveDir, 0o700);
      for (const name of hung) signalTree(name, 'SIGCONT');
      hung.clear();
      await Promise.all(
        nodes
          .filter((n) => postmasterPid(n) !== null)
          .map((n) =>
            pgCtl(n, ['stop', '-m', 'fast', '-w', '-t', '30']).catch(() =>
              pgCtl(n, ['stop', '-m', 'immediate', '-w']),
            ),
          ),
      );
      live.delete(cluster);
      rmSync(root, { recursive: true, force: true });
    },
  };
  live.add(cluster);

  try {
    // Standbys: base backups taken concurrently, each with its own port, name and restore_command.
    await Promise.all(
      standbys.map(async (s) => {
        await runAsPgUser(
          'pg_basebackup',
          ['-h', '127.0.0.1', '-p', String(primary.port), '-U', user, '-D', s.dataDir].concat([
            '-R',
            '-X',
            'stream',
            '-c',
            'fast',
            '--no-sync',
          ]),
          { cwd: root, timeoutMs: 120_000 },
        );
        appendConf(s.dataDir, {
          port: s.port,
          cluster_name: s.name,
          restore_command: `cp ${archiveDir}/%f %p`,
        });
        await startNode(s);
      }),
    );
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
