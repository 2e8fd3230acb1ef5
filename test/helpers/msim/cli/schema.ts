/**
 * The state of one replica, in its own PostgreSQL database. The runbook's restore is a real
 * pg_restore of this database, so a restore really rolls back the oplog and the own epoch row.
 */
export const MSIM_SCHEMA = `
CREATE TABLE replica (
  name text PRIMARY KEY,
  guid text NOT NULL,
  host text NOT NULL,
  is_self boolean NOT NULL DEFAULT false,
  deleted boolean NOT NULL DEFAULT false,
  locked boolean NOT NULL DEFAULT false,
  restoring boolean NOT NULL DEFAULT false,
  incarnation integer NOT NULL DEFAULT 1,
  -- siblings whose restoration request this replica has imported and not yet seen end
  owes_ack_to text[] NOT NULL DEFAULT '{}',
  -- siblings whose acknowledgement this (restoring) replica still waits for
  must_hear_from text[] NOT NULL DEFAULT '{}'
);
CREATE TABLE epoch (
  row_replica text NOT NULL,
  origin text NOT NULL,
  n bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (row_replica, origin)
);
CREATE TABLE oplog (
  origin text NOT NULL,
  oid bigint NOT NULL,
  payload text NOT NULL,
  ts timestamptz NOT NULL,
  PRIMARY KEY (origin, oid)
);
-- what users see: one row per applied operation
CREATE TABLE records (
  origin text NOT NULL,
  oid bigint NOT NULL,
  payload text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (origin, oid)
);
-- packet ids already applied here: a packet delivered twice is a no-op
CREATE TABLE imported_packet (
  id text PRIMARY KEY,
  sender text NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now()
);
`;

export interface ReplicaSeed {
  name: string;
  guid: string;
  host: string;
}

/** Rows every replica's database starts with: all members known, all epoch numbers 0. */
export function seedStatements(self: string, members: ReplicaSeed[]): { text: string; values: unknown[] }[] {
  const out: { text: string; values: unknown[] }[] = [];
  for (const m of members) {
    out.push({
      text: 'INSERT INTO replica (name, guid, host, is_self) VALUES ($1, $2, $3, $4)',
      values: [m.name, m.guid, m.host, m.name === self],
    });
    for (const o of members)
      out.push({
        text: 'INSERT INTO epoch (row_replica, origin, n) VALUES ($1, $2, 0)',
        values: [m.name, o.name],
      });
  }
  return out;
}
