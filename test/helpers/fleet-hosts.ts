import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecoverConfig } from '../../src/config/topology';
import type { Access } from '../../src/config/topology';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { liveServer, type LiveServer } from './live-server';
import { shareWithSshUser, type TestSshd } from './sshd';

export interface FleetHosts {
  config: RecoverConfig;
  live: Record<string, LiveServer>;
  /** <CoreMediaHome> per node. */
  homes: Record<string, string>;
  /** Put a Rijndael key file in place on a node, named after its own database and user. */
  writeKey(node: string, content: string): string;
  destroy(): void;
}

/**
 * The fleet's topology with every node reachable over the test sshd, a Live Server script of its
 * own (stopped) and a CoreMedia home directory: what the CoreMedia runbooks act on. Everything
 * there belongs to the SSH test user, who runs the remote commands.
 */
export function withHosts(fleet: Fleet, sshd: TestSshd, access: Partial<Access>): FleetHosts {
  const root = mkdtempSync(join(tmpdir(), 'recover-homes-'));
  shareWithSshUser(root); // the SSH test user creates the homes' etc/keys when a key is copied in
  const raw = structuredClone(fleet.config) as {
    topologies: { nodes: Record<string, unknown>[]; access?: unknown }[];
  };
  const topology = raw.topologies[0]!;
  topology.access = { ...access };
  const live: Record<string, LiveServer> = {};
  const homes: Record<string, string> = {};
  for (const node of topology.nodes) {
    const name = node.name as string;
    live[name] = liveServer();
    homes[name] = join(root, name);
    node.host = sshd.hostConfig();
    node.service = live[name]!.service({ timeoutMs: 10_000 });
    node.coremediaHome = homes[name];
  }
  const config = RecoverConfig.parse(raw);
  return {
    config,
    live,
    homes,
    writeKey(node, content) {
      const n = config.topologies[0]!.nodes.find((x) => x.name === node)!;
      const dir = join(homes[node]!, 'etc', 'keys');
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `${n.db!.database}.${n.db!.user}.rijndael`);
      writeFileSync(path, content);
      shareWithSshUser(homes[node]!);
      return path;
    },
    destroy() {
      for (const l of Object.values(live)) l.destroy();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
