import type { NodeConfig, Topology } from '../../config/topology';
import { DbError } from '../../db/errors';
import { bounded, probeService } from '../service-probe';
import type { FleetAccess, Finding, ServiceProbe } from '../types';
import { PostgresTopologySettings } from './config';
import { formatLsn, lsnDiff, parseLsn, walFileEnd } from './lsn';
import { parseConninfo, ProbeDataError, readPostgresNode, type NodeFacts } from './probe-sql';
import { proposeFailover } from './propose';
import type { PostgresNodeStatus, PostgresReport, PrimaryLsnEvidence } from './report';

export interface InspectOptions {
  /** A primary LSN remembered from an earlier probe (monitor memory): evidence after a crash. */
  lastPrimaryLsn?: PrimaryLsnEvidence | null;
  /** An allow-data-loss gate has been approved by a second person. */
  allowDataLoss?: boolean;
}

// The server answered and said no: it is reachable, its state is not readable.
const answeredCodes = new Set<DbError['code']>(['AUTH', 'MISSING_OBJECT', 'QUERY', 'STATEMENT_TIMEOUT']);

type Outcome = { facts: NodeFacts } | { error: unknown; timedOut: boolean };

/** Probe one node within timeoutMs (database and service concurrently); never throws. */
export async function probePostgresNode(
  node: NodeConfig,
  fleet: FleetAccess,
  timeoutMs: number,
): Promise<PostgresNodeStatus> {
  const db = fleet.db(node);
  const progress = { answered: false };
  const [outcome, service] = await Promise.all([
    bounded<Outcome>(
      readPostgresNode(db, progress).then((facts) => ({ facts })),
      timeoutMs,
      (timedOut, error) => ({ timedOut, error }),
    ),
    probeService(node, fleet, timeoutMs),
  ]);
  const base = emptyStatus(node, service);
  if ('facts' in outcome) {
    const { latencyMs, ...facts } = outcome.facts;
    return { ...base, ...facts, latencyMs, reachable: true, role: facts.inRecovery ? 'standby' : 'primary' };
  }
  const connected = progress.answered || db.openConnections() > 0;
  const err = outcome.error;
  const reachable =
    connected || err instanceof ProbeDataError || (err instanceof DbError && answeredCodes.has(err.code));
  return { ...base, reachable, error: describe(err, outcome.timedOut, connected, timeoutMs) };
}

function describe(err: unknown, timedOut: boolean, connected: boolean, timeoutMs: number): string {
  if (timedOut)
    return connected
      ? `probe timed out after ${timeoutMs} ms (node stopped answering)`
      : `unreachable: no answer within ${timeoutMs} ms`;
  if (err instanceof DbError && (err.code === 'REFUSED' || err.code === 'CONNECT_TIMEOUT'))
    return `unreachable: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

function emptyStatus(node: NodeConfig, service: ServiceProbe | null): PostgresNodeStatus {
  return {
    name: node.name,
    role: 'unknown',
    engine: node.db?.engine ?? null,
    reachable: false,
    error: null,
    latencyMs: null,
    service,
    inRecovery: null,
    timeline: null,
    timelineSource: null,
    currentLsn: null,
    receiveLsn: null,
    replayLsn: null,
    position: null,
    streaming: null,
    receiver: null,
    replayPaused: null,
    lastReplayAt: null,
    lagBytes: null,
    unreplayedBytes: null,
    upstream: null,
    replication: null,
    databaseBytes: null,
    archiver: null,
    settings: {},
    dataCenter: node.postgres?.dataCenter ?? null,
  };
}

/** Which configured node a standby streams from: the receiver's sender, else its primary_conninfo. */
function upstreamOf(status: PostgresNodeStatus, topology: Topology): string | null {
  if (status.role !== 'standby') return null;
  const ci = parseConninfo(status.settings.primary_conninfo);
  const host = status.receiver?.senderHost ?? ci.host ?? ci.hostaddr ?? null;
  const port = status.receiver?.senderPort ?? (ci.port ? Number(ci.port) : 5432);
  if (!host) return null;
  const match = topology.nodes.find((n) => {
    const own = parseConninfo(n.postgres?.conninfo);
    const nHost = own.host ?? own.hostaddr ?? n.db?.host;
    const nPort = own.port ? Number(own.port) : n.db?.port;
    return n.name !== status.name && nHost === host && nPort === port;
  });
  return match?.name ?? null;
}

/**
 * End of the newest archived segment, read over each archive-owning node's host: proves how far
 * a dead primary had written at least. Null when no archive could be listed in time.
 */
async function archiveEvidence(topology: Topology, fleet: FleetAccess): Promise<PrimaryLsnEvidence | null> {
  const seen = new Set<string>();
  const lists = topology.nodes
    .filter(
      (n) =>
        n.host &&
        n.postgres?.archiveDir &&
        !seen.has(n.postgres.archiveDir) &&
        seen.add(n.postgres.archiveDir),
    )
    .map((n) =>
      bounded(
        Promise.resolve()
          .then(() => fleet.host(n))
          .then((host) =>
            host
              .run(['ls', '-1', n.postgres?.archiveDir as string], { timeoutMs: topology.probe.timeoutMs })
              .then((r) => (r.exitCode === 0 ? r.stdoutTail.split('\n') : [])),
          ),
        topology.probe.timeoutMs,
        () => [] as string[],
      ),
    );
  let best: { timeline: number; endLsn: bigint } | null = null;
  for (const name of (await Promise.all(lists)).flat()) {
    const seg = walFileEnd(name.trim());
    if (
      seg &&
      (!best || seg.timeline > best.timeline || (seg.timeline === best.timeline && seg.endLsn > best.endLsn))
    )
      best = seg;
  }
  return best ? { lsn: formatLsn(best.endLsn), timeline: best.timeline, source: 'archive' } : null;
}

/** Probe every node at once (each bounded by topology.probe.timeoutMs), then apply the rules. */
export async function inspectPostgres(
  topology: Topology,
  fleet: FleetAccess,
  options: InspectOptions = {},
): Promise<PostgresReport> {
  const started = performance.now();
  const probedAt = new Date().toISOString();
  // Listed alongside the node probes, so the whole inspection stays within one probe timeout.
  const archive = archiveEvidence(topology, fleet);
  const nodes = await Promise.all(
    topology.nodes.map((n) => probePostgresNode(n, fleet, topology.probe.timeoutMs)),
  );
  for (const n of nodes) n.upstream = upstreamOf(n, topology);
  const primaries = nodes.filter((n) => n.role === 'primary');
  const primary = primaries.length === 1 ? primaries[0] : undefined;
  for (const n of nodes)
    if (n.role === 'standby' && primary)
      // Negative: the standby is past the primary it is compared with (a fork, or the wrong primary).
      n.lagBytes = lsnDiff(parseLsn(primary.currentLsn), parseLsn(n.position));

  // Awaited even when unused: nothing may still run on the fleet's connections after we return.
  const archived = await archive;
  const evidence = primary ? null : greater(options.lastPrimaryLsn ?? null, archived);
  const settings = topology.postgres ?? PostgresTopologySettings.parse({});
  const proposal = proposeFailover({
    nodes,
    settings,
    nodeSettings: Object.fromEntries(topology.nodes.map((n) => [n.name, n.postgres])),
    configuredPrimary: topology.master ?? null,
    primaryLsn: evidence,
    allowDataLoss: options.allowDataLoss ?? false,
  });
  return {
    topology: topology.name,
    flavour: 'postgres-streaming',
    probedAt,
    durationMs: Math.round(performance.now() - started),
    nodes,
    warnings: findings(nodes),
    unknown: nodes.filter((n) => n.role === 'unknown').map((n) => n.name),
    proposal,
  };
}

function greater(a: PrimaryLsnEvidence | null, b: PrimaryLsnEvidence | null): PrimaryLsnEvidence | null {
  if (!a || !b) return a ?? b;
  if ((a.timeline ?? 0) !== (b.timeline ?? 0)) return (a.timeline ?? 0) > (b.timeline ?? 0) ? a : b;
  return (parseLsn(a.lsn) ?? 0n) >= (parseLsn(b.lsn) ?? 0n) ? a : b;
}

/** What the status shows above the nodes and a plan carries as warnings. */
function findings(nodes: PostgresNodeStatus[]): Finding[] {
  const out: Finding[] = [];
  const primaries = nodes.filter((n) => n.role === 'primary');
  if (primaries.length > 1)
    out.push({
      code: 'two-primaries',
      message: `${primaries.map((p) => p.name).join(' and ')} all answer as primary`,
    });
  for (const n of nodes) {
    if (n.role === 'standby' && n.streaming === false)
      out.push({ code: 'not-streaming', message: `${n.name} is not streaming (no WAL receiver)` });
    if (n.role === 'standby' && n.replayPaused)
      out.push({ code: 'replay-paused', message: `${n.name} has WAL replay paused` });
    if (n.role === 'primary' && n.archiver?.failing)
      out.push({
        code: 'archiver-failing',
        message: `${n.name} cannot archive WAL: ${n.archiver.failedCount} failures, last ${n.archiver.lastFailedWal}`,
      });
  }
  return out;
}
