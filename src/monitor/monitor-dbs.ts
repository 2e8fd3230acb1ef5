import type { NodeConfig } from '../config/topology';
import { openDb } from '../db/connect';
import type { Db } from '../db/types';

/**
 * The monitor's database sessions: a poll opens at most one connection per node (pools of one) and
 * closes them when it ends (release), so between polls the monitor holds none, and one poll per
 * topology runs at a time. Counts every statement, for the README's cost table and the benchmark.
 */
export class MonitorDbs {
  private readonly pools = new Map<string, Db>();
  private readonly counted = new Map<string, Db>();
  private readonly perNode = new Map<string, number>();
  queries = 0;

  constructor(private readonly env: NodeJS.ProcessEnv = {}) {}

  get(node: NodeConfig, topology: string): Db {
    const key = `${topology}/${node.name}`;
    let db = this.counted.get(key);
    if (!db) {
      const inner = openDb(node, { env: this.env, maxConnections: 1 });
      this.pools.set(key, inner);
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

  /** After a poll: close the topology's connections (the next poll opens fresh ones). */
  async release(topology: string): Promise<void> {
    const mine = [...this.pools.keys()].filter((k) => k.startsWith(`${topology}/`));
    const dbs = mine.map((k) => this.pools.get(k)!);
    for (const k of mine) {
      this.pools.delete(k);
      this.counted.delete(k);
    }
    await Promise.allSettled(dbs.map((db) => db.close()));
  }

  async closeAll(): Promise<void> {
    const dbs = [...this.pools.values()];
    this.pools.clear();
    this.counted.clear();
    await Promise.allSettled(dbs.map((db) => db.close()));
  }
}
