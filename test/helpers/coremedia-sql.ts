import mysql from 'mysql2/promise';
import pg from 'pg';
import { serviceUrls } from '../../src/config/env';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';

/** Run SQL on one fleet node as the admin user (tests only: setup and final assertions). */
export async function onNode<T = Record<string, unknown>>(
  fleet: Fleet,
  node: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const d = fleet.databases.find((x) => x.node === node);
  if (!d) throw new Error(`no node ${node}`);
  if (d.engine === 'postgres') {
    const url = new URL(serviceUrls().fleetPostgresUrl);
    url.pathname = `/${d.database}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      let n = 0;
      return (
        await client.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        )
      ).rows as T[];
    } finally {
      await client.end();
    }
  }
  const url = new URL(serviceUrls().fleetMysqlUrl);
  url.pathname = `/${d.database}`;
  const conn = await mysql.createConnection(url.toString());
  try {
    const [rows] = await conn.query(sql, params);
    return (Array.isArray(rows) ? rows : []) as T[];
  } finally {
    await conn.end();
  }
}

/** What a restore from the master's backup leaves on a slave: no replicator rows, server type "publication". */
export async function makeFreshlyRestored(fleet: Fleet, node: string): Promise<void> {
  const engine = fleet.databases.find((x) => x.node === node)!.engine;
  const system = engine === 'mysql' ? '`system`' : 'system';
  await onNode(
    fleet,
    node,
    `DELETE FROM ${system} WHERE property IN ('replicator_remote', 'replicator_local', 'replicator_tag')`,
  );
  await onNode(
    fleet,
    node,
    `UPDATE ${system} SET content = 'publication' WHERE property = 'repository_server_type'`,
  );
}

export async function systemRows(fleet: Fleet, node: string): Promise<Record<string, string>> {
  const engine = fleet.databases.find((x) => x.node === node)!.engine;
  const rows = await onNode<{ property: string; content: string }>(
    fleet,
    node,
    `SELECT property, content FROM ${engine === 'mysql' ? '`system`' : 'system'}`,
  );
  return Object.fromEntries(rows.map((r) => [r.property, String(r.content)]));
}
