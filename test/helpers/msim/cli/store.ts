import { Client } from 'pg';
import type { HostConfig } from './host-config';

export type Row = Record<string, number>;
export type Matrix = Record<string, Row>;

export interface ReplicaRow {
  name: string;
  guid: string;
  host: string;
  is_self: boolean;
  deleted: boolean;
  locked: boolean;
  restoring: boolean;
  incarnation: number;
  owes_ack_to: string[];
  must_hear_from: string[];
}

export interface Op {
  origin: string;
  oid: number;
  payload: string;
  ts: string;
}

/** An error the CLI reports as one line and a non-zero exit, with a code tests can match. */
export class MsimError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MsimError';
  }
}

export async function connect(db: HostConfig['db']): Promise<Client> {
  const client = new Client({ ...db, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Every state change takes the same transaction-scoped lock: imports, exports and writes serialize. */
export async function inTransaction<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(7231)');
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export async function replicas(client: Client): Promise<ReplicaRow[]> {
  const { rows } = await client.query<ReplicaRow>('SELECT * FROM replica ORDER BY is_self DESC, name');
  return rows;
}

export async function selfRow(client: Client): Promise<ReplicaRow> {
  const { rows } = await client.query<ReplicaRow>('SELECT * FROM replica WHERE is_self');
  if (!rows[0]) throw new MsimError('no-replica', 'the database holds no replica: was it restored?');
  return rows[0];
}

export async function matrix(client: Client): Promise<Matrix> {
  const { rows } = await client.query<{ row_replica: string; origin: string; n: string }>(
    'SELECT row_replica, origin, n FROM epoch ORDER BY row_replica, origin',
  );
  const m: Matrix = {};
  for (const r of rows) (m[r.row_replica] ??= {})[r.origin] = Number(r.n);
  return m;
}

export async function setRow(client: Client, rowReplica: string, row: Row): Promise<void> {
  for (const [origin, n] of Object.entries(row))
    await client.query(
      `INSERT INTO epoch (row_replica, origin, n) VALUES ($1, $2, $3)
       ON CONFLICT (row_replica, origin) DO UPDATE SET n = EXCLUDED.n`,
      [rowReplica, origin, n],
    );
}

/** Ops with origin Y and id > base[Y], in (origin, oid) order: what an export carries. */
export async function opsAfter(client: Client, base: Row): Promise<Op[]> {
  const { rows } = await client.query<{ origin: string; oid: string; payload: string; ts: Date }>(
    'SELECT origin, oid, payload, ts FROM oplog ORDER BY origin, oid',
  );
  return rows
    .filter((r) => Number(r.oid) > (base[r.origin] ?? 0))
    .map((r) => ({ origin: r.origin, oid: Number(r.oid), payload: r.payload, ts: r.ts.toISOString() }));
}

/**
 * Apply one op at this replica if it is new here (id above the own row for its origin). Returns
 * false for an op already present: re-sent ops are ignored, as the syncreplica doc says.
 */
export async function applyOp(client: Client, self: string, op: Op): Promise<boolean> {
  const { rows } = await client.query<{ n: string }>(
    'SELECT n FROM epoch WHERE row_replica = $1 AND origin = $2',
    [self, op.origin],
  );
  const have = Number(rows[0]?.n ?? 0);
  if (op.oid <= have) return false;
  await client.query(
    'INSERT INTO oplog (origin, oid, payload, ts) VALUES ($1, $2, $3, $4) ON CONFLICT (origin, oid) DO NOTHING',
    [op.origin, op.oid, op.payload, op.ts],
  );
  await client.query(
    'INSERT INTO records (origin, oid, payload) VALUES ($1, $2, $3) ON CONFLICT (origin, oid) DO NOTHING',
    [op.origin, op.oid, op.payload],
  );
  await setRow(client, self, { [op.origin]: op.oid });
  return true;
}

/** A user's change at this replica: one oplog entry originating here. Refused while locked. */
export async function writeOp(client: Client, payload: string): Promise<number> {
  return inTransaction(client, async () => {
    const self = await selfRow(client);
    if (self.locked)
      throw new MsimError(
        'locked',
        `Replica "${self.name}" is locked: only syncreplica -import may change it`,
      );
    const m = await matrix(client);
    const oid = (m[self.name]?.[self.name] ?? 0) + 1;
    const ts = new Date().toISOString();
    await client.query('INSERT INTO oplog (origin, oid, payload, ts) VALUES ($1, $2, $3, $4)', [
      self.name,
      oid,
      payload,
      ts,
    ]);
    await client.query('INSERT INTO records (origin, oid, payload) VALUES ($1, $2, $3)', [
      self.name,
      oid,
      payload,
    ]);
    await setRow(client, self.name, { [self.name]: oid });
    return oid;
  });
}
