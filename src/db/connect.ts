import { requireSql, type NodeConfig, type SqlNode } from '../config/topology';
import { secretFromEnv } from '../config/env';
import { DbError } from './errors';
import { openMysql } from './mysql';
import { openPostgres } from './postgres';
import type { Db } from './types';

export interface OpenDbOptions {
  /** Pool size per node; probes need one. */
  maxConnections?: number;
  env?: NodeJS.ProcessEnv;
}

/** Open a node's database pool. Nothing connects until the first query. */
export function openDb(config: NodeConfig, options: OpenDbOptions = {}): Db {
  const node = requireSql(config);
  const password = secretFromEnv(node.db.passwordEnv, options.env);
  if (node.db.passwordEnv && password === undefined)
    return unusableDb(node, `${node.db.passwordEnv} is not set`);
  const max = options.maxConnections ?? 1;
  switch (node.db.engine) {
    case 'postgres':
      return openPostgres(node.name, node.db, password, max);
    case 'mysql':
      return openMysql(node.name, node.db, password, max);
  }
}

/** A node we must not even try: connecting without its password would only fail more confusingly. */
function unusableDb(node: SqlNode, reason: string): Db {
  return {
    engine: node.db.engine,
    node: node.name,
    query: () => Promise.reject(new DbError('AUTH', node.name, `no password: ${reason}`)),
    openConnections: () => 0,
    close: () => Promise.resolve(),
  };
}

/** Owns every pool a command opened, so they are all closed on the way out. */
export class DbRegistry {
  private readonly dbs = new Map<string, Db>();

  constructor(private readonly options: OpenDbOptions = {}) {}

  get(node: NodeConfig, topology: string): Db {
    const key = `${topology}/${node.name}`;
    let db = this.dbs.get(key);
    if (!db) {
      db = openDb(node, this.options);
      this.dbs.set(key, db);
    }
    return db;
  }

  async closeAll(): Promise<void> {
    const all = [...this.dbs.values()];
    this.dbs.clear();
    await Promise.allSettled(all.map((db) => db.close()));
  }
}
