import { Topology, type Topology as TopologyType } from '../../src/config/topology';
import type { TungstenBackup } from '../../src/flavours/tungsten/config';
import type { TsimCluster } from './tsim/cluster';

export interface TungstenTopologyOptions {
  name?: string;
  probeTimeoutMs?: number;
  /** The database each node's SQL uses (the canary table goes there); it must exist. */
  database?: string;
  /** Per node: the backup a restore of it uses. */
  backups?: Record<string, Omit<TungstenBackup, 'timeoutMs'> & { timeoutMs?: number }>;
  /** The source id of each host as the simulator was started with (default: the host name). */
  sourceIdOf?: (host: string) => string;
}

/** A tungsten topology for a tsim cluster, validated by the real schema: SSH and MariaDB per host. */
export function tungstenTopology(cluster: TsimCluster, options: TungstenTopologyOptions = {}): TopologyType {
  return Topology.parse({
    name: options.name ?? 'tfleet',
    flavour: 'tungsten',
    master: cluster.primary().name,
    probe: { timeoutMs: options.probeTimeoutMs ?? 3000 },
    tungsten: { service: cluster.service },
    nodes: cluster.hosts.map((h) => ({
      name: h.name,
      db: {
        engine: 'mysql',
        host: '127.0.0.1',
        port: h.mariadbPort,
        database: options.database ?? 'app',
        user: 'root',
        connectTimeoutMs: 1500,
        statementTimeoutMs: 5000,
      },
      host: h.sshd.hostConfig(),
      tungsten: {
        binDir: h.binDir,
        sourceId: options.sourceIdOf?.(h.name) ?? h.name,
        ...(options.backups?.[h.name] ? { backup: options.backups[h.name] } : {}),
      },
    })),
  });
}
