/**
 * The fleets bench:slack runs against: a CoreMedia fleet after a master crash (seed 000's case:
 * master-from-slave is 35 steps and 5 approval gates on it) and a small quiet fleet for the busy
 * channels' status requests. Real PostgreSQL; hosts are local commands with a Live Server script
 * each (no sshd), as in the chaos suite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { createFleet, type Fleet } from '../src/flavours/coremedia/fleet/fleet';
import { Scenario } from '../src/flavours/coremedia/fleet/scenario';
import { createLiveServer, killLiveServers, writeRijndaelKey } from '../scripts/chaos/live-server';
import { masterNode, slaveNode } from '../test/helpers/scenarios';

type RawTopology = { name: string; nodes: Record<string, unknown>[]; [k: string]: unknown };

export interface BenchFleet {
  topology: RawTopology;
  env: Record<string, string>;
  destroy(): Promise<void>;
}

/** The crashed-master fleet: mls at 1050 (down), rls-1/rls-2 at 1042, rls-3 at 1030, rls-4 at 1046 with 3 rows. */
export async function crashedFleet(name: string, approvers: string[]): Promise<BenchFleet> {
  const fleet = await createFleet(
    Scenario.parse({
      name,
      master: 'mls',
      nodes: [
        masterNode('postgres', 1050),
        slaveNode('rls-1', 'postgres', 1042),
        slaveNode('rls-2', 'postgres', 1042),
        slaveNode('rls-3', 'postgres', 1030),
        slaveNode('rls-4', 'postgres', 1046, 3),
      ],
    }),
    { prefix: `${name.replace(/-/g, '_')}${process.pid}` },
  );
  const dir = mkdtempSync(join(tmpdir(), `recover-${name}-`));
  const topology = withHosts(fleet, dir, approvers);
  const rls1 = topology.nodes.find((n) => n.name === 'rls-1')!;
  const db = rls1.db as { database: string; user: string };
  writeRijndaelKey(join(dir, 'hosts', 'rls-1'), db.database, db.user, `rijndael-key-of-${name}\n`);
  for (const n of topology.nodes) {
    if (n.name === 'mls') continue; // the master crashed: its server is down
    await createLiveServer(join(dir, 'hosts', String(n.name)), String(n.name)).start();
  }
  return { topology, env: fleet.env, destroy: () => teardown(fleet, dir) };
}

/** Two nodes in sync, nothing to do: what the busy channels keep asking about. */
export async function quietFleet(name: string): Promise<BenchFleet> {
  const fleet = await createFleet(
    Scenario.parse({
      name,
      master: 'mls',
      nodes: [masterNode('postgres', 1042), slaveNode('rls-1', 'postgres', 1042)],
    }),
    { prefix: `${name.replace(/-/g, '_')}${process.pid}` },
  );
  const topology = (YAML.parse(YAML.stringify(fleet.config)) as { topologies: RawTopology[] }).topologies[0]!;
  topology.monitor = { enabled: false };
  return { topology, env: fleet.env, destroy: () => fleet.destroy() };
}

function withHosts(fleet: Fleet, dir: string, approvers: string[]): RawTopology {
  const topology = (YAML.parse(YAML.stringify(fleet.config)) as { topologies: RawTopology[] }).topologies[0]!;
  topology.access = { approvers, approvalTtlMinutes: 60 };
  topology.monitor = { enabled: false };
  for (const n of topology.nodes) {
    const server = createLiveServer(join(dir, 'hosts', String(n.name)), String(n.name));
    Object.assign(n, {
      host: { transport: 'local' },
      service: {
        stop: [server.script, 'stop'],
        start: [server.script, 'start'],
        status: [server.script, 'status'],
        timeoutMs: 10_000,
      },
      coremediaHome: server.home,
    });
  }
  return topology;
}

async function teardown(fleet: Fleet, dir: string): Promise<void> {
  killLiveServers(dir);
  rmSync(dir, { recursive: true, force: true });
  await fleet.destroy();
}
