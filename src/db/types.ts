import type { DbEngine } from '../config/topology';
import type { SessionOptions } from './session-limits';

export type Row = Record<string, unknown>;

export interface QueryResult {
  rows: Row[];
  /** Rows changed by INSERT/UPDATE/DELETE; 0 for reads. */
  affectedRows: number;
  durationMs: number;
}

/**
 * One node's database. SQL uses `?` placeholders on every engine (the PostgreSQL adapter
 * rewrites them to $1…); values are always passed as parameters, never spliced into text.
 */
export interface Db {
  readonly engine: DbEngine;
  readonly node: string;
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult>;
  /** Sessions currently open (authenticated) to the node: tells "hung after connecting" from "never connected". */
  openConnections(): number;
  close(): Promise<void>;
  /**
   * One connection for the whole of `fn`, tagged and with bounded lock waits (session-limits.ts),
   * given back clean afterwards. Optional: test doubles need not have it (see inStepSession).
   */
  session?<T>(options: SessionOptions, fn: (db: Db) => Promise<T>): Promise<T>;
}
