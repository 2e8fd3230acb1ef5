import type { Db, Row } from '../../db/types';
import { formatLsn, lsnDiff, maxLsn, parseLsn } from './lsn';
import type { ArchiverStatus, ReplicationPeer, WalReceiver } from './report';

/** The settings failover depends on (SYSTEMS.md §2.2); read with one parameterized query. */
export const KEY_SETTINGS = [
  'server_version',
  'cluster_name',
  'port',
  'archive_mode',
  'archive_command',
  'restore_command',
  'primary_conninfo',
  'recovery_target_timeline',
  'synchronous_standby_names',
  'wal_log_hints',
  'data_checksums',
] as const;

/** The statements one probe sends; cheap, read-only, all on the node's one pooled session. */
export const POSTGRES_PROBE_SQL = {
  role: 'SELECT pg_is_in_recovery() AS in_recovery',
  standby: `SELECT pg_last_wal_receive_lsn()::text AS receive_lsn, pg_last_wal_replay_lsn()::text AS replay_lsn,
    pg_last_xact_replay_timestamp() AS replay_at, pg_is_wal_replay_paused() AS paused,
    (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_tli,
    (SELECT min_recovery_end_timeline FROM pg_control_recovery()) AS min_recovery_tli`,
  receiver: `SELECT status, receive_start_tli, received_tli, flushed_lsn::text AS flushed_lsn,
    latest_end_lsn::text AS latest_end_lsn, sender_host, sender_port, slot_name FROM pg_stat_wal_receiver`,
  // pg_walfile_name errors during recovery, so it is asked only of a primary; its first 8 hex
  // digits are the timeline (pg_control_checkpoint() still says the old one until a checkpoint).
  primary: `SELECT pg_current_wal_lsn()::text AS current_lsn, pg_walfile_name(pg_current_wal_lsn()) AS walfile`,
  replication: `SELECT application_name, client_addr::text AS client_addr, state, sent_lsn::text AS sent_lsn,
    flush_lsn::text AS flush_lsn, replay_lsn::text AS replay_lsn, sync_state,
    (extract(epoch FROM replay_lag) * 1000)::float8 AS replay_lag_ms
    FROM pg_stat_replication ORDER BY application_name`,
  // What a base backup of the primary copies (WAN estimate of a new data center), template0
  // included (it is copied too); databases this user may not connect to are left out rather than
  // failing the whole probe, so it is a lower bound.
  size: `SELECT sum(pg_database_size(oid))::bigint::text AS bytes FROM pg_database
    WHERE has_database_privilege(oid, 'CONNECT')`,
  archiver: `SELECT archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal,
    last_failed_time FROM pg_stat_archiver`,
  settings: `SELECT name, setting FROM pg_settings WHERE name IN (${KEY_SETTINGS.map(() => '?').join(', ')})`,
};

export interface NodeFacts {
  inRecovery: boolean;
  timeline: number | null;
  timelineSource: 'wal' | 'receiver' | 'control' | null;
  currentLsn: string | null;
  receiveLsn: string | null;
  replayLsn: string | null;
  position: string | null;
  unreplayedBytes: number | null;
  streaming: boolean | null;
  receiver: WalReceiver | null;
  replayPaused: boolean | null;
  lastReplayAt: string | null;
  replication: ReplicationPeer[] | null;
  /** Primary: sum of pg_database_size(); null on a standby. */
  databaseBytes: number | null;
  archiver: ArchiverStatus | null;
  settings: Record<string, string | null>;
  latencyMs: number;
}

/** The server answered but not with what the probe needs: the node is reachable, its state unknown. */
export class ProbeDataError extends Error {}

const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
const int = (v: unknown) => (v === null || v === undefined || v === '' ? null : Number(v));
const time = (v: unknown) => (v instanceof Date ? v.toISOString() : text(v));

/** Read one node; `progress.answered` tells a node that stopped answering from one never reached. */
export async function readPostgresNode(db: Db, progress: { answered: boolean }): Promise<NodeFacts> {
  const role = await db.query(POSTGRES_PROBE_SQL.role);
  progress.answered = true;
  const inRecovery = role.rows[0]?.in_recovery;
  if (typeof inRecovery !== 'boolean') throw new ProbeDataError('pg_is_in_recovery() gave no answer');
  const facts = inRecovery ? await readStandby(db) : await readPrimary(db);
  const archiver = parseArchiver((await db.query(POSTGRES_PROBE_SQL.archiver)).rows[0]);
  const settingRows = await db.query(POSTGRES_PROBE_SQL.settings, KEY_SETTINGS);
  const settings: Record<string, string | null> = {};
  for (const r of settingRows.rows) settings[String(r.name)] = redactConninfo(text(r.setting));
  return {
    inRecovery,
    ...facts,
    archiver,
    settings,
    latencyMs: Math.round(Math.min(role.durationMs, settingRows.durationMs) * 10) / 10,
  };
}

type RoleFacts = Omit<NodeFacts, 'inRecovery' | 'archiver' | 'settings' | 'latencyMs'>;

async function readPrimary(db: Db): Promise<RoleFacts> {
  const row = (await db.query(POSTGRES_PROBE_SQL.primary)).rows[0];
  const current = parseLsn(row?.current_lsn);
  const walfile = text(row?.walfile);
  if (current === null || !walfile || !/^[0-9A-F]{24}$/.test(walfile))
    throw new ProbeDataError(`primary did not report its WAL position (${String(row?.current_lsn)})`);
  const replication = (await db.query(POSTGRES_PROBE_SQL.replication)).rows.map(parseReplication);
  const size = int((await db.query(POSTGRES_PROBE_SQL.size)).rows[0]?.bytes);
  const lsn = formatLsn(current);
  return {
    timeline: parseInt(walfile.slice(0, 8), 16),
    timelineSource: 'wal',
    currentLsn: lsn,
    receiveLsn: null,
    replayLsn: null,
    position: lsn,
    unreplayedBytes: null,
    streaming: null,
    receiver: null,
    replayPaused: null,
    lastReplayAt: null,
    replication,
    databaseBytes: size,
  };
}

async function readStandby(db: Db): Promise<RoleFacts> {
  const row = (await db.query(POSTGRES_PROBE_SQL.standby)).rows[0] ?? {};
  const receiverRow = (await db.query(POSTGRES_PROBE_SQL.receiver)).rows[0];
  const receiver = receiverRow ? parseReceiver(receiverRow) : null;
  const receive = parseLsn(row.receive_lsn);
  const replay = parseLsn(row.replay_lsn);
  const position = maxLsn(receive, replay);
  const receivedTli = receiver?.receivedTli ?? null;
  // Without a receiver the control file is all there is; it trails until the next restartpoint.
  const controlTli = Math.max(int(row.checkpoint_tli) ?? 0, int(row.min_recovery_tli) ?? 0) || null;
  const timeline = receivedTli && receivedTli > 0 ? receivedTli : controlTli;
  const unreplayed = receive !== null && replay !== null ? Math.max(0, lsnDiff(receive, replay) ?? 0) : null;
  return {
    timeline,
    timelineSource: receivedTli && receivedTli > 0 ? 'receiver' : controlTli ? 'control' : null,
    currentLsn: null,
    receiveLsn: receive === null ? null : formatLsn(receive),
    replayLsn: replay === null ? null : formatLsn(replay),
    position: position === null ? null : formatLsn(position),
    unreplayedBytes: unreplayed,
    // No row: not streaming (the primary is down or primary_conninfo is empty), never "caught up".
    streaming: receiver?.status === 'streaming',
    receiver,
    replayPaused: typeof row.paused === 'boolean' ? row.paused : null,
    lastReplayAt: time(row.replay_at),
    replication: null,
    databaseBytes: null,
  };
}

function parseReceiver(r: Row): WalReceiver {
  return {
    status: String(r.status),
    receiveStartTli: int(r.receive_start_tli),
    receivedTli: int(r.received_tli),
    flushedLsn: text(r.flushed_lsn),
    latestEndLsn: text(r.latest_end_lsn),
    senderHost: text(r.sender_host),
    senderPort: int(r.sender_port),
    slotName: text(r.slot_name),
  };
}

function parseReplication(r: Row): ReplicationPeer {
  return {
    applicationName: String(r.application_name ?? ''),
    clientAddr: text(r.client_addr),
    state: text(r.state),
    sentLsn: text(r.sent_lsn),
    flushLsn: text(r.flush_lsn),
    replayLsn: text(r.replay_lsn),
    syncState: text(r.sync_state),
    replayLagMs: r.replay_lag_ms === null || r.replay_lag_ms === undefined ? null : Number(r.replay_lag_ms),
  };
}

function parseArchiver(r: Row | undefined): ArchiverStatus | null {
  if (!r) return null;
  const lastArchivedAt = time(r.last_archived_time);
  const lastFailedAt = time(r.last_failed_time);
  return {
    archivedCount: Number(r.archived_count),
    lastArchivedWal: text(r.last_archived_wal),
    lastArchivedAt,
    failedCount: Number(r.failed_count),
    lastFailedWal: text(r.last_failed_wal),
    lastFailedAt,
    failing: lastFailedAt !== null && (lastArchivedAt === null || lastFailedAt > lastArchivedAt),
  };
}

/** primary_conninfo may carry a password; the report goes to Slack. */
export function redactConninfo(value: string | null): string | null {
  return value === null ? null : value.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1[redacted]');
}

/** libpq keyword=value pairs (values may be single-quoted). */
export function parseConninfo(value: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (value ?? '').matchAll(/(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/g)) {
    const raw = m[2] as string;
    out[m[1] as string] = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return out;
}
