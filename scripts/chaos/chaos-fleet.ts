import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { RecoverConfig, type DbEngine } from '../../src/config/topology';
import { createFleet, type Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { Scenario } from '../../src/flavours/coremedia/fleet/scenario';
import { masterNode, slaveNode } from '../../test/helpers/scenarios';
import { instrumentNode } from './log-db';
import { createLiveServer, writeRijndaelKey, type LiveServer } from './live-server';

/**
 * One CoreMedia fleet for one run, after a master crash: the master's server is down (its
 * changelog got to 1050), rls-1 and rls-2 are in sync at 1042 (rls-1 is the dedicated slave),
 * rls-3 is behind at 1030 and, in half the fleets, rls-4 got to 1046 with rows in
 * ReplicatorIdTable. Every node has a Live Server run as local commands (no sshd), a CoreMedia
 * home, and triggers logging its changes into the suite's log database.
 */
export interface ChaosFleet {
  topology: string;
  engine: DbEngine;
  fleet: Fleet;
  config: RecoverConfig;
  configFile: string;
  /** For worker processes: the node passwords (none here) and PATH with the restore wrappers first. */
  env: Record<string, string>;
  servers: Map<string, LiveServer>;
  master: string;
  dedicated: string;
  inSync: string[];
  toRestore: string[];
  keyContent: string;
  logDb: string;
  databaseOf(node: string): string;
  userOf(node: string): string;
}

export async function createChaosFleet(o: {
  topology: string;
  engine: DbEngine;
  prefix: string;
  withRls4: boolean;
  dir: string;
  logDb: string;
  wrappersDir: string;
}): Promise<ChaosFleet> {
  const e = o.engine;
  const nodes = [
    masterNode(e, 1050),
    slaveNode('rls-1', e, 1042),
    slaveNode('rls-2', e, 1042),
    slaveNode('rls-3', e, 1030),
    ...(o.withRls4 ? [slaveNode('rls-4', e, 1046, 3)] : []),
  ];
  const fleet = await createFleet(Scenario.parse({ name: o.topology, master: 'mls', nodes }), {
    prefix: o.prefix,
    topologyFile: join(o.dir, 'fleet.topology.yaml'),
  });
  const databaseOf = (node: string) => fleet.databases.find((d) => d.node === node)!.database;
  const raw = YAML.parse(YAML.stringify(fleet.config)) as {
    topologies: { nodes: { name: string; db: { user: string } }[]; [k: string]: unknown }[];
  };
  const t = raw.topologies[0]!;
  // alice may start runs; bob approves (never his own). Monitoring would only add noise here.
  t.access = { requesters: ['alice'], approvers: ['bob'], approvalTtlMinutes: 60 };
  t.monitor = { enabled: false };
  const servers = new Map<string, LiveServer>();
  for (const n of t.nodes) {
    const home = join(o.dir, 'hosts', n.name);
    const server = createLiveServer(home, n.name);
    servers.set(n.name, server);
    Object.assign(n, {
      host: { transport: 'local' },
      service: {
        stop: [server.script, 'stop'],
        start: [server.script, 'start'],
        status: [server.script, 'status'],
        timeoutMs: 10_000,
      },
      coremediaHome: home,
    });
  }
  const config = RecoverConfig.parse(raw);
  const configFile = join(o.dir, 'recover.yaml');
  mkdirSync(o.dir, { recursive: true });
  writeFileSync(configFile, YAML.stringify(raw));
  const userOf = (node: string) => t.nodes.find((n) => n.name === node)!.db.user;

  const keyContent = `rijndael-key-of-${o.topology}\n`;
  writeRijndaelKey(join(o.dir, 'hosts', 'rls-1'), databaseOf('rls-1'), userOf('rls-1'), keyContent);
  for (const n of nodes) await instrumentNode(e, databaseOf(n.name), o.logDb, n.name !== 'rls-1');
  // The master crashed: its server is down; every slave's runs.
  for (const [name, server] of servers) if (name !== 'mls') await server.start();

  return {
    topology: o.topology,
    engine: e,
    fleet,
    config,
    configFile,
    env: { ...fleet.env, PATH: `${o.wrappersDir}:${process.env.PATH ?? ''}` },
    servers,
    master: 'mls',
    dedicated: 'rls-1',
    inSync: ['rls-1', 'rls-2'],
    toRestore: o.withRls4 ? ['rls-3', 'rls-4'] : ['rls-3'],
    keyContent,
    logDb: o.logDb,
    databaseOf,
    userOf,
  };
}
