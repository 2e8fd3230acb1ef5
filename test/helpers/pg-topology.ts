import { Topology, type Topology as TopologyType } from '../../src/config/topology';
import type {
  PostgresNodeSettings,
  PostgresTopologySettings,
} from '../../src/flavours/postgres-streaming/config';
import type { PgCluster } from './pg-cluster';
import { PG_BIN } from './pg-template';
import type { TestSshd } from './sshd';

export interface PgTopologyOptions {
  name?: string;
  /** Every node's host (they all live on this machine): SSH as the cluster user, service = pg_ctl. */
  sshd?: TestSshd;
  probeTimeoutMs?: number;
  postgres?: Partial<PostgresTopologySettings>;
  /** Per node name, merged over the defaults below. */
  nodes?: Record<string, Partial<PostgresNodeSettings>>;
}

/**
 * A postgres-streaming topology for a test cluster, validated by the real schema. Node-local
 * settings (port, cluster_name) are listed so rebuild steps can re-apply them after pg_rewind.
 */
export function pgTopology(cluster: PgCluster, options: PgTopologyOptions = {}): TopologyType {
  return Topology.parse({
    name: options.name ?? 'pgfleet',
    flavour: 'postgres-streaming',
    master: cluster.primary.name,
    probe: { timeoutMs: options.probeTimeoutMs ?? 2000 },
    postgres: options.postgres ?? {},
    nodes: cluster.nodes.map((n) => ({
      name: n.name,
      db: {
        engine: 'postgres',
        host: '127.0.0.1',
        port: n.port,
        database: 'postgres',
        user: cluster.user,
        connectTimeoutMs: 1500,
        statementTimeoutMs: 5000,
      },
      ...(options.sshd
        ? {
            host: options.sshd.hostConfig(),
            service: {
              status: [`${PG_BIN}/pg_ctl`, 'status', '-D', n.dataDir],
              start: [`${PG_BIN}/pg_ctl`, 'start', '-w', '-D', n.dataDir, '-l', n.logFile],
              stop: [`${PG_BIN}/pg_ctl`, 'stop', '-m', 'fast', '-D', n.dataDir],
              timeoutMs: 30_000,
            },
          }
        : {}),
      postgres: {
        dataDir: n.dataDir,
        binDir: PG_BIN,
        archiveDir: cluster.archiveDir,
        conninfo: n.conninfo,
        localSettings: { port: n.port, cluster_name: n.name },
        ...options.nodes?.[n.name],
      },
    })),
  });
}
