import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import YAML from 'yaml';
import { RecoverConfig } from '../config/topology';
import { openDb } from '../db/connect';
import { seedCoreMedia } from '../flavours/coremedia/fleet/coremedia-schema';
import { LIVE_SERVER_SCRIPT } from './live-server-script';

export const DEMO_TOPOLOGY = 'demo';
export const DEMO_PASSWORD_ENV = 'RECOVER_DEMO_PG_PASSWORD';

interface DemoNode {
  name: string;
  last: number;
  /** replicator_remote/local; the master has none. */
  replicator?: number;
  replicatorIdRows?: number;
  /** Its Live Server (or, for the master, Content Management Server) process is up. */
  running: boolean;
}

/**
 * After a master crash: its server is down and its changelog got to 1050; rls-1 and rls-2 are in
 * sync at 1042, rls-3 is behind at 1030, rls-4 got to 1046 but has rows in ReplicatorIdTable.
 */
const NODES: DemoNode[] = [
  { name: 'mls', last: 1050, running: false },
  { name: 'rls-1', last: 1042, replicator: 1042, running: true },
  { name: 'rls-2', last: 1042, replicator: 1042, running: true },
  { name: 'rls-3', last: 1030, replicator: 1030, running: true },
  { name: 'rls-4', last: 1046, replicator: 1046, replicatorIdRows: 3, running: true },
];

export interface DemoFleet {
  configFile: string;
  config: RecoverConfig;
  /** Stop every Live Server process the demo started. */
  stopServers(): Promise<void>;
}

/**
 * The demo's CoreMedia fleet in one PostgreSQL server: a database per node, seeded; per node a
 * CoreMedia home and a Live Server init script run as local commands (the `local` transport).
 */
export async function createDemoFleet(o: {
  dir: string;
  pg: { port: number; user: string; password: string };
}): Promise<DemoFleet> {
  const env = { [DEMO_PASSWORD_ENV]: o.pg.password };
  const admin = new Client({
    host: '127.0.0.1',
    port: o.pg.port,
    user: o.pg.user,
    password: o.pg.password,
    database: 'postgres',
  });
  await admin.connect();
  try {
    for (const n of NODES) await admin.query(`CREATE DATABASE ${databaseOf(n)}`);
  } finally {
    await admin.end();
  }

  const homes = join(o.dir, 'hosts');
  const raw = {
    topologies: [
      {
        name: DEMO_TOPOLOGY,
        flavour: 'coremedia',
        master: 'mls',
        probe: { timeoutMs: 3000 },
        // alice and bob may start runs; only bob may approve one (and never his own).
        access: { requesters: ['alice', 'bob'], approvers: ['bob'], approvalTtlMinutes: 15 },
        nodes: NODES.map((n) => {
          const home = join(homes, n.name);
          const script = join(home, 'bin', 'live-server.sh');
          return {
            name: n.name,
            db: {
              engine: 'postgres',
              host: '127.0.0.1',
              port: o.pg.port,
              database: databaseOf(n),
              user: o.pg.user,
              passwordEnv: DEMO_PASSWORD_ENV,
            },
            host: { transport: 'local' },
            service: {
              stop: [script, 'stop'],
              start: [script, 'start'],
              status: [script, 'status'],
              timeoutMs: 10_000,
            },
            coremediaHome: home,
          };
        }),
      },
    ],
  };
  const config = RecoverConfig.parse(raw);
  const configFile = join(o.dir, 'recover.yaml');
  writeFileSync(
    configFile,
    `# Written by npm run demo: the demo fleet, all in one embedded PostgreSQL on port ${o.pg.port}.\n` +
      `# The password is in $${DEMO_PASSWORD_ENV} while the demo runs.\n` +
      YAML.stringify(raw),
  );

  const topology = config.topologies[0]!;
  for (const [i, n] of NODES.entries()) {
    const db = openDb(topology.nodes[i]!, { env });
    try {
      await seedCoreMedia(
        { engine: 'postgres', run: async (sql, params) => (await db.query(sql, params)).rows },
        {
          ...(n.replicator !== undefined
            ? {
                replicator: {
                  remote: `${n.replicator}`,
                  local: `${n.replicator}`,
                  tag: `tag-${n.replicator}`,
                },
              }
            : {}),
          replicatorIdRows: n.replicatorIdRows ?? 0,
          changelog: { last: n.last, count: n.last - 1000 },
          serverType: n.name === topology.master ? 'publication' : 'live',
          faults: [],
        },
      );
    } finally {
      await db.close();
    }
    const home = join(homes, n.name);
    mkdirSync(join(home, 'bin'), { recursive: true });
    const script = join(home, 'bin', 'live-server.sh');
    writeFileSync(script, LIVE_SERVER_SCRIPT);
    chmodSync(script, 0o755);
    if (n.name === 'rls-1') writeKey(home, databaseOf(n), o.pg.user);
    if (n.running) execFileSync(script, ['start'], { stdio: 'ignore' });
  }
  // A Live Server comes up a moment after `start` returns: wait, so a quick /quit stops it too.
  for (const n of NODES.filter((x) => x.running))
    await untilRunning(join(homes, n.name, 'bin', 'live-server.sh'));

  const killAll = () => stopLiveServers(o.dir);
  return {
    configFile,
    config,
    stopServers: async () => {
      killAll();
      // A start a runbook step had just asked for lands ~0.3 s later: catch that one too.
      await new Promise((r) => setTimeout(r, 500));
      killAll();
    },
  };
}

async function untilRunning(script: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync(script, ['status'], { stdio: 'ignore' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // exit 3: not yet
    }
  }
}

function databaseOf(n: DemoNode): string {
  return `cm_${n.name.replace(/-/g, '_')}`;
}

/** The Rijndael key the runbooks copy from the dedicated slave (seed 000, step 3). */
function writeKey(home: string, database: string, user: string): void {
  const dir = join(home, 'etc', 'keys');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${database}.${user}.rijndael`), 'demo-rijndael-key\n', { mode: 0o600 });
}

/** Stop every Live Server whose pid file is under the demo directory (this run's or a killed one's). */
export function stopLiveServers(demoDir: string): void {
  const hosts = join(demoDir, 'hosts');
  if (!existsSync(hosts)) return;
  for (const node of readdirSync(hosts)) killPidFile(join(hosts, node, 'bin', 'live-server.pid'));
}

/** Stop the process a pid file names, if it still runs. */
function killPidFile(file: string, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
