import type { NodeConfig } from '../config/topology';
import { DbRegistry } from '../db/connect';
import type { Db } from '../db/types';

/**
 * The monitor's own database pools: at most one connection per node in this process (a poll of a
 * topology probes each node once, and one poll per topology runs at a time), closed about a second
 * after the poll. Counts every statement it sends, for the README's cost table and the benchmark.
 */
export class MonitorDbs {
  private readonly registry: DbRegistry;
  private readonly counted = new Map<string, Db>();
  private readonly perNode = new Map<string, number>();
  queries = 0;

  constructor(env: NodeJS.ProcessEnv = {}, idleTimeoutMs = 1000) {
    this.registry = new DbRegistry({ env, maxConnections: 1, idleTimeoutMs });
  }

  get(node: NodeConfig, topology: string): Db {
    const key = `${topology}/${node.name}`;
    let db = this.counted.get(key);
    if (!db) {
      const inner = this.registry.get(node, topology);
      db = {
        engine: inner.engine,
        node: inner.node,
        query: (sql, params) => {
          this.queries += 1;
          this.perNode.set(key, (this.perNode.get(key) ?? 0) + 1);
          return inner.query(sql, params);
        },
        openConnections: () => inner.openConnections(),
        close: () => inner.close(),
      };
      this.counted.set(key, db);
    }
    return db;
  }

  /** Statements sent to one node so far. */
  queriesTo(topology: string, node: string): number {
    return this.perNode.get(`${topology}/${node}`) ?? 0;
  }

  /** Connections open right now, per node (never more than one each). */
  openConnections(): Record<string, number> {
    return Object.fromEntries([...this.counted].map(([k, db]) => [k, db.openConnections()]));
  }

  async closeAll(): Promise<void> {
    this.counted.clear();
    await this.registry.closeAll();
  }
}
