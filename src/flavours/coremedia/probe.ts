import type { Topology } from '../../config/topology';
import { ident } from '../../db/dialect';
import { DbError } from '../../db/errors';
import type { Db, Row } from '../../db/types';
import type { ChangelogEntry, FleetReport, NodeReport, NodeRole } from './report';

const SYSTEM_PROPERTIES = [
  'replicator_remote',
  'replicator_local',
  'replicator_tag',
  'repository_server_type',
];
export const REPLICATOR_ID_SAMPLE = 5;

/** The statements one probe sends, in order; also what the docs quote as the cost of a poll. */
export function coremediaProbeSql(engine: Db['engine']) {
  const system = ident(engine, 'system');
  return {
    system: `SELECT property, content FROM ${system} WHERE property IN (?, ?, ?, ?)`,
    replicatorIdCount: `SELECT COUNT(*) AS n FROM ${ident(engine, 'ReplicatorIdTable')}`,
    replicatorIdSample: `SELECT * FROM ${ident(engine, 'ReplicatorIdTable')} LIMIT ${REPLICATOR_ID_SAMPLE}`,
    lastChangelog: `SELECT * FROM ${ident(engine, 'changelog')} WHERE sequenceno = (SELECT max(sequenceno) FROM ${ident(engine, 'changelog')})`,
  };
}

class ProbeDataError extends Error {
  constructor(
    message: string,
    readonly replicatorRowsMissing = false,
  ) {
    super(message);
  }
}

/** Probe one node; never throws: whatever goes wrong becomes `error` and the node is unknown. */
export async function probeCoremediaNode(db: Db, role: NodeRole, timeoutMs: number): Promise<NodeReport> {
  const progress = { answered: false };
  const work = readNodeState(db, role, progress);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DbError('CONNECT_TIMEOUT', db.node, `no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    // Values are applied only when the whole read succeeded: a late answer cannot change a returned report.
    const values = await Promise.race([work, deadline]);
    return { ...emptyReport(db, role), ...values, reachable: true };
  } catch (err) {
    const connected = progress.answered || db.openConnections() > 0;
    const reachable = connected || (err instanceof DbError && reachableCodes.has(err.code));
    const replicatorRowsMissing = err instanceof ProbeDataError && err.replicatorRowsMissing;
    return {
      ...emptyReport(db, role),
      reachable,
      error: describe(err, connected, timeoutMs),
      replicatorRowsMissing,
    };
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined); // the race's loser may still reject later
  }
}

type NodeState = Omit<
  NodeReport,
  'name' | 'role' | 'engine' | 'reachable' | 'error' | 'replicatorRowsMissing'
>;

async function readNodeState(db: Db, role: NodeRole, progress: { answered: boolean }): Promise<NodeState> {
  const sql = coremediaProbeSql(db.engine);
  const system = await db.query(sql.system, SYSTEM_PROPERTIES);
  progress.answered = true;
  const props = new Map(
    system.rows.map((r) => [String(r.property), r.content == null ? null : String(r.content)]),
  );
  const replicatorRemote = parseSequence('replicator_remote', props.get('replicator_remote'));
  if (role === 'slave' && replicatorRemote === null)
    throw new ProbeDataError('system has no replicator_remote row: replication state unknown', true);

  const count = await db.query(sql.replicatorIdCount);
  const replicatorIdRows = Number(count.rows[0]?.n ?? NaN);
  if (!Number.isSafeInteger(replicatorIdRows)) throw new ProbeDataError('ReplicatorIdTable count unreadable');
  const replicatorIdSample = replicatorIdRows > 0 ? (await db.query(sql.replicatorIdSample)).rows : [];

  const last = await db.query(sql.lastChangelog);
  return {
    replicatorRemote,
    replicatorLocal: parseSequence('replicator_local', props.get('replicator_local')),
    replicatorTag: props.get('replicator_tag') ?? null,
    serverType: props.get('repository_server_type') ?? null,
    replicatorIdRows,
    replicatorIdSample,
    lastChangelog: last.rows[0] ? parseChangelog(last.rows[0]) : null,
    // The cheapest round trip after connecting: closest to the network's latency.
    latencyMs: round(Math.min(count.durationMs, last.durationMs)),
  };
}

/** Probe every node of a topology at once; each is bounded by its own timeout, so none waits for another. */
export async function probeCoremediaFleet(
  topology: Topology,
  dbFor: (node: string) => Db,
): Promise<FleetReport> {
  const probedAt = new Date().toISOString();
  const nodes = await Promise.all(
    topology.nodes.map((n) =>
      probeCoremediaNode(
        dbFor(n.name),
        n.name === topology.master ? 'master' : 'slave',
        topology.probe.timeoutMs,
      ),
    ),
  );
  return { topology: topology.name, flavour: topology.flavour, probedAt, nodes };
}

// The server answered and said no: it is reachable, its state is not readable.
const reachableCodes = new Set<DbError['code']>(['AUTH', 'MISSING_OBJECT', 'QUERY', 'STATEMENT_TIMEOUT']);

function describe(err: unknown, answered: boolean, timeoutMs: number): string {
  if (err instanceof ProbeDataError) return err.message;
  if (err instanceof DbError) {
    if (err.code === 'CONNECT_TIMEOUT' && answered)
      return `probe timed out after ${timeoutMs} ms (node stopped answering)`;
    if (err.code === 'CONNECT_TIMEOUT') return `unreachable: ${err.message}`;
    if (err.code === 'REFUSED') return `unreachable: ${err.message}`;
    if (err.code === 'MISSING_OBJECT') return `not a CoreMedia schema: ${err.message}`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function parseSequence(property: string, value: string | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed))
    throw new ProbeDataError(`${property} is ${JSON.stringify(value)}, not a sequence number`);
  const n = Number(trimmed);
  if (!Number.isSafeInteger(n))
    throw new ProbeDataError(`${property} ${trimmed} is too large to compare safely`);
  return n;
}

function parseChangelog(row: Row): ChangelogEntry {
  const sequenceno = parseSequence(
    'changelog.sequenceno',
    row.sequenceno == null ? null : String(row.sequenceno),
  );
  if (sequenceno === null) throw new ProbeDataError('last changelog row has no sequenceno');
  return { sequenceno, idtag: String(row.idtag ?? '') };
}

function emptyReport(db: Db, role: NodeRole): NodeReport {
  return {
    name: db.node,
    role,
    engine: db.engine,
    reachable: false,
    error: null,
    replicatorRowsMissing: false,
    replicatorRemote: null,
    replicatorLocal: null,
    replicatorTag: null,
    replicatorIdRows: null,
    replicatorIdSample: [],
    serverType: null,
    lastChangelog: null,
    latencyMs: null,
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
