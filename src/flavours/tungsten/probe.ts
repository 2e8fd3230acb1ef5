import type { NodeConfig, Topology } from '../../config/topology';
import { ident } from '../../db/dialect';
import { bounded } from '../service-probe';
import type { FleetAccess } from '../types';
import { TungstenNodeSettings, TungstenTopologySettings, tungstenSchema } from './config';
import { parseCctrlLs, type CctrlLs } from './parse/cctrl-ls';
import { parseCliHelp } from './parse/dsctl';
import { parseThlInfo } from './parse/thl';
import { parseBackupPosition } from './parse/backup-position';
import { formatPosition } from './parse/event-id';
import { READ_BACKUP_POSITION } from './runbooks/scripts';
import { parseTrepctlStatus } from './parse/trepctl';
import type { TrepRow } from './parse/trep';
import { proposeRestore, tungstenFindings } from './propose';
import { isSuspectStatus } from './suspect';
import type { ClusterView, TungstenNodeStatus, TungstenReport } from './report';

/** answered: the host ran the command to an exit code (it is reachable, whatever the code). */
type Ran = { ok: true; stdout: string } | { ok: false; error: string; answered: boolean };

const settingsOf = (node: NodeConfig): TungstenNodeSettings =>
  node.tungsten ?? TungstenNodeSettings.parse({});

export const datasourceOf = (node: NodeConfig): string => settingsOf(node).datasource ?? node.name;
export const sourceIdOf = (node: NodeConfig): string => settingsOf(node).sourceId ?? datasourceOf(node);
export const binDirOf = (node: NodeConfig): string => settingsOf(node).binDir;
export const backupOf = (node: NodeConfig) => settingsOf(node).backup;

export function topologySettings(topology: Topology): TungstenTopologySettings {
  const t = topology.tungsten;
  if (!t) throw new Error(`topology ${topology.name} has no tungsten section (service name)`);
  return t;
}

/** A CLI on the node's host, bounded; SSH down or a non-zero exit is an error, never output. */
async function run(
  node: NodeConfig,
  fleet: FleetAccess,
  argv: string[],
  timeoutMs: number,
  stdin?: string,
): Promise<Ran> {
  const work = (async (): Promise<Ran> => {
    const r = await fleet.host(node).run(argv, { timeoutMs, ...(stdin !== undefined ? { stdin } : {}) });
    if (r.exitCode === 0) return { ok: true, stdout: r.stdoutTail };
    const why = (r.stderrTail || r.stdoutTail).trim().split('\n').pop() ?? '';
    return {
      ok: false,
      answered: r.exitCode !== null,
      error: r.timedOut ? `timed out after ${timeoutMs} ms` : `exit ${r.exitCode ?? r.signal}: ${why}`,
    };
  })();
  return bounded<Ran>(work, timeoutMs, (timedOut, err) => ({
    ok: false,
    answered: false,
    error: timedOut ? `no answer within ${timeoutMs} ms` : err instanceof Error ? err.message : String(err),
  }));
}

async function readTrep(node: NodeConfig, fleet: FleetAccess, schema: string, timeoutMs: number) {
  if (!node.db) return { rows: null, error: 'no db in the topology' };
  const db = fleet.db(node);
  const sql = `SELECT seqno, epoch_number, source_id, eventid FROM ${ident(node.db.engine, schema)}.trep_commit_seqno ORDER BY seqno`;
  return bounded<{ rows: TrepRow[] | null; error: string | null }>(
    db.query(sql, []).then((r) => ({
      rows: r.rows.map((row) => ({
        seqno: row.seqno === null ? null : Number(row.seqno),
        epoch: row.epoch_number === null ? null : Number(row.epoch_number),
        sourceId: (row.source_id as string | null) ?? null,
        eventId: (row.eventid as string | null) ?? null,
      })),
      error: null,
    })),
    timeoutMs,
    (timedOut, err) => ({
      rows: null,
      error: timedOut ? `no answer within ${timeoutMs} ms` : err instanceof Error ? err.message : String(err),
    }),
  );
}

async function probeNode(
  node: NodeConfig,
  fleet: FleetAccess,
  service: string,
  timeoutMs: number,
): Promise<TungstenNodeStatus> {
  const bin = binDirOf(node);
  const backup = backupOf(node);
  const [status, thl, thlHelp, dsctlHelp, trep, backupRead] = await Promise.all([
    run(node, fleet, [`${bin}/trepctl`, '-service', service, 'status'], timeoutMs),
    run(node, fleet, [`${bin}/thl`, '-service', service, 'info'], timeoutMs),
    run(node, fleet, [`${bin}/thl`, 'help'], timeoutMs),
    run(node, fleet, [`${bin}/dsctl`, 'help'], timeoutMs),
    readTrep(node, fleet, tungstenSchema(service), timeoutMs),
    backup
      ? run(node, fleet, ['sh', '-c', READ_BACKUP_POSITION, 'position', backup.kind, backup.path], timeoutMs)
      : Promise.resolve(null),
  ]);
  const position = backupRead?.ok ? parseBackupPosition(backupRead.stdout) : null;
  const replicator = status.ok ? parseTrepctlStatus(status.stdout) : null;
  const hostAnswered = [status, thl, thlHelp, dsctlHelp].some((r) => r.ok || r.answered);
  return {
    name: node.name,
    role: 'unknown',
    engine: node.db?.engine ?? null,
    reachable: hostAnswered || trep.rows !== null,
    error: status.ok ? (replicator ? null : 'trepctl status printed no status') : `trepctl: ${status.error}`,
    latencyMs: null,
    service: null,
    datasource: datasourceOf(node),
    cluster: null,
    replicator,
    replicatorError: status.ok ? null : status.error,
    thl: thl.ok ? parseThlInfo(thl.stdout) : null,
    trep: trep.rows,
    trepError: trep.error,
    abilities: parseCliHelp(thlHelp.ok ? thlHelp.stdout : null, dsctlHelp.ok ? dsctlHelp.stdout : null),
    sourceId: sourceIdOf(node),
    backup: backup
      ? {
          path: backup.path,
          from: backup.from,
          position: position ? formatPosition(position) : null,
          error: position
            ? null
            : backupRead && !backupRead.ok
              ? backupRead.error
              : 'no binlog position in the backup',
        }
      : null,
  };
}

/** `cctrl ls` on the first host that answers (configured master first): the manager's view. */
async function readCluster(
  topology: Topology,
  fleet: FleetAccess,
  timeoutMs: number,
): Promise<{ view: ClusterView; ls: CctrlLs | null }> {
  const order = [...topology.nodes].sort(
    (a, b) => Number(b.name === topology.master) - Number(a.name === topology.master),
  );
  const errors: string[] = [];
  for (const node of order.filter((n) => n.host)) {
    const r = await run(node, fleet, [`${binDirOf(node)}/cctrl`], timeoutMs, 'ls\nexit\n');
    const ls = r.ok ? parseCctrlLs(r.stdout) : null;
    if (ls && ls.datasources.length > 0)
      return { view: { known: true, error: null, coordinator: ls.coordinator }, ls };
    errors.push(`${node.name}: ${r.ok ? 'cctrl printed no datasources' : r.error}`);
  }
  return {
    view: {
      known: false,
      error: `cctrl ls: ${errors.join('; ') || 'no node has a host'}`,
      coordinator: null,
    },
    ls: null,
  };
}

/** Probe every node at once and the manager, then apply the rules (propose.ts). */
export async function inspectTungsten(topology: Topology, fleet: FleetAccess): Promise<TungstenReport> {
  const started = performance.now();
  const probedAt = new Date().toISOString();
  const { service } = topologySettings(topology);
  const timeoutMs = topology.probe.timeoutMs;
  const [nodes, cluster] = await Promise.all([
    Promise.all(topology.nodes.map((n) => probeNode(n, fleet, service, timeoutMs))),
    readCluster(topology, fleet, timeoutMs),
  ]);
  for (const n of nodes) {
    n.cluster = cluster.ls?.datasources.find((d) => d.name === n.datasource) ?? null;
    n.role = roleOf(n);
  }
  const settings = topologySettings(topology);
  const proposal = proposeRestore({ nodes, cluster: cluster.view, settings });
  return {
    topology: topology.name,
    flavour: 'tungsten',
    service,
    probedAt,
    durationMs: Math.round(performance.now() - started),
    cluster: cluster.view,
    nodes,
    proposal,
    warnings: [
      ...proposal.refusals.filter((r) => r.node === null).map(({ code, message }) => ({ code, message })),
      ...tungstenFindings(nodes, settings),
    ],
    unknown: nodes.filter((n) => n.role === 'unknown' || isSuspectStatus(n)).map((n) => n.name),
  };
}

/** The manager's word first; the replicator's own role when the manager cannot be asked. */
function roleOf(n: TungstenNodeStatus): TungstenNodeStatus['role'] {
  if (n.cluster && n.cluster.role !== 'other') return n.cluster.role;
  const r = n.replicator?.role;
  if (r === 'master' || r === 'primary') return 'primary';
  if (r === 'slave' || r === 'replica') return 'replica';
  return 'unknown';
}
