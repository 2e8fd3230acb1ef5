import type { DbEngine } from '../../../config/topology';
import type { Fault } from './scenario';

/** Minimal executor the seeding needs; SQL uses `?` placeholders on both engines. */
export interface SqlRunner {
  readonly engine: DbEngine;
  run(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
}

/** What one CoreMedia database should contain, already resolved from the scenario. */
export interface CoreMediaSeed {
  /** String contents for the three replicator rows of `system`; absent means no rows. */
  replicator?: { remote: string; local: string; tag: string };
  replicatorIdRows: number;
  changelog: { last: number; count: number; idtag?: string };
  serverType: string;
  faults: readonly Fault[];
}

/**
 * Table names as the seeds write them. PostgreSQL: unquoted, so they fold to lower case just like
 * the seeds' SQL. MariaDB/MySQL: case kept, backticks because `system` is reserved on MySQL 8.
 */
export function tbl(engine: DbEngine, name: string): string {
  return engine === 'mysql' ? `\`${name}\`` : name;
}

export const SYSTEM_PROPS = {
  remote: 'replicator_remote',
  local: 'replicator_local',
  tag: 'replicator_tag',
  serverType: 'repository_server_type',
} as const;

export function coreMediaDdl(engine: DbEngine, faults: readonly Fault[] = []): string[] {
  const t = (n: string) => tbl(engine, n);
  const ddl = [
    `CREATE TABLE ${t('system')} (property VARCHAR(255) PRIMARY KEY, content VARCHAR(1024))`,
    `CREATE TABLE ${t('changelog')} (sequenceno BIGINT PRIMARY KEY, idtag VARCHAR(64) NOT NULL, eventtype VARCHAR(32), resourceid VARCHAR(64))`,
    `CREATE TABLE ${t('CmLicenses')} (id BIGINT PRIMARY KEY, license VARCHAR(255))`,
    `CREATE TABLE ${t('resources')} (id BIGINT PRIMARY KEY, name VARCHAR(255), version INT)`,
  ];
  if (!faults.includes('missing-replicator-id-table')) {
    ddl.push(
      `CREATE TABLE ${t('ReplicatorIdTable')} (id BIGINT PRIMARY KEY, resourceid VARCHAR(64), sequenceno BIGINT)`,
    );
  }
  return ddl;
}

const BATCH_ROWS = 500;

/** Multi-row INSERTs in batches: one round trip per 500 rows instead of one per row. */
export async function insertRows(
  db: SqlRunner,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += BATCH_ROWS) {
    const batch = rows.slice(i, i + BATCH_ROWS);
    const sql = `INSERT INTO ${tbl(db.engine, table)} (${columns.join(', ')}) VALUES ${batch.map(() => tuple).join(', ')}`;
    await db.run(sql, batch.flat());
  }
}

/** Insert-or-replace of `system` rows, as the dialect spells it. */
export async function upsertSystem(db: SqlRunner, entries: readonly [string, string][]): Promise<void> {
  if (entries.length === 0) return;
  const values = entries.map(() => '(?, ?)').join(', ');
  const onConflict =
    db.engine === 'mysql'
      ? 'ON DUPLICATE KEY UPDATE content = VALUES(content)'
      : 'ON CONFLICT (property) DO UPDATE SET content = EXCLUDED.content';
  await db.run(
    `INSERT INTO ${tbl(db.engine, 'system')} (property, content) VALUES ${values} ${onConflict}`,
    entries.flat(),
  );
}

/** Appends `n` pending rows after the highest id; sequencenos continue past `afterSeq`. */
export async function addReplicatorIdRows(db: SqlRunner, n: number, afterSeq: number): Promise<void> {
  if (n <= 0) return;
  const [max] = await db.run(`SELECT COALESCE(MAX(id), 0) AS m FROM ${tbl(db.engine, 'ReplicatorIdTable')}`);
  const start = Number(max?.m ?? 0) + 1;
  const rows = Array.from({ length: n }, (_, i) => {
    const id = start + i;
    return [id, `coremedia:///cap/content/${id * 2}`, afterSeq + id];
  });
  await insertRows(db, 'ReplicatorIdTable', ['id', 'resourceid', 'sequenceno'], rows);
}

export function changelogIdtag(seq: number, spec: CoreMediaSeed['changelog']): string {
  return seq === spec.last && spec.idtag !== undefined ? spec.idtag : `tag-${seq}`;
}

/** Creates the tables and fills them; `db` must point at an empty database. */
export async function seedCoreMedia(db: SqlRunner, seed: CoreMediaSeed): Promise<void> {
  for (const stmt of coreMediaDdl(db.engine, seed.faults)) await db.run(stmt);

  const system: [string, string][] = [];
  if (seed.replicator) {
    system.push([SYSTEM_PROPS.remote, seed.replicator.remote]);
    system.push([SYSTEM_PROPS.local, seed.replicator.local]);
    system.push([SYSTEM_PROPS.tag, seed.replicator.tag]);
  }
  if (seed.faults.includes('non-numeric-sequence')) {
    const i = system.findIndex(([p]) => p === SYSTEM_PROPS.remote);
    if (i >= 0) system.splice(i, 1);
    system.push([SYSTEM_PROPS.remote, 'abc']);
  }
  system.push([SYSTEM_PROPS.serverType, seed.serverType]);
  await insertRows(db, 'system', ['property', 'content'], system);

  const { last, count } = seed.changelog;
  const events = ['publish', 'publish', 'unpublish', 'withdraw'];
  const changelog = Array.from({ length: count }, (_, i) => {
    const seq = last - count + 1 + i;
    return [
      seq,
      changelogIdtag(seq, seed.changelog),
      events[seq % events.length],
      `coremedia:///cap/content/${seq % 97}`,
    ];
  });
  await insertRows(db, 'changelog', ['sequenceno', 'idtag', 'eventtype', 'resourceid'], changelog);

  if (!seed.faults.includes('missing-replicator-id-table')) {
    await addReplicatorIdRows(db, seed.replicatorIdRows, last);
  }

  await insertRows(
    db,
    'CmLicenses',
    ['id', 'license'],
    [
      [1, 'CM-LIVE-SERVER-0001'],
      [2, 'CM-STUDIO-CONCURRENT-0025'],
    ],
  );
  // Versions follow the node's changelog so that nodes at different sequence numbers differ.
  const resources = Array.from({ length: 5 }, (_, i) => [i + 1, `resource-${i + 1}`, (last % 100_000) + i]);
  await insertRows(db, 'resources', ['id', 'name', 'version'], resources);
}
