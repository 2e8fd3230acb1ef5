import type { NodeConfig, Topology } from '../../config/topology';
import type { CommandResult } from '../../hosts/types';
import { bounded } from '../service-probe';
import type { FleetAccess, Finding } from '../types';
import { cliFor, nodeSettingsOf, replicaOf } from './cli';
import { parseLsepoch } from './parse-lsepoch';
import { parseLspacket } from './parse-lspacket';
import { parseLsreplica } from './parse-lsreplica';
import { proposeRestoration } from './propose';
import { RUN_SCRIPT } from './runbooks/scripts';
import type { BackupManifest, MultisiteNodeStatus, MultisiteReport } from './report';

export interface InspectOptions {
  /** Own-op counts remembered from earlier probes, to size the loss window. */
  lastSeenOwnOps?: Record<string, number>;
}

type Ran = { ok: true; out: string } | { ok: false; error: string; reached: boolean; out: string };

/**
 * A backup manifest: JSON `{ time, ownRow: { <replica>: N, … } }` (the simulator's msim-db), or
 * `key=value` lines with `own_ops=N` and `taken_at=`. Null when it says nothing about own ops.
 */
export function parseManifest(text: string, replica: string): BackupManifest | null {
  try {
    const j = JSON.parse(text) as { time?: unknown; ownRow?: Record<string, unknown> };
    const own = j.ownRow?.[replica];
    if (typeof own === 'number') return { ownOps: own, takenAt: typeof j.time === 'string' ? j.time : null };
    if (j && typeof j === 'object') return null;
  } catch {
    // not JSON: key=value lines
  }
  const kv = Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  const own = kv.own_ops;
  return own !== undefined && /^\d+$/.test(own)
    ? { ownOps: Number(own), takenAt: kv.taken_at ?? null }
    : null;
}

function emptyStatus(node: NodeConfig): MultisiteNodeStatus {
  return {
    name: node.name,
    role: 'unknown',
    engine: null,
    reachable: false,
    error: null,
    latencyMs: null,
    service: null,
    replica: replicaOf(node),
    matrix: null,
    ownOps: null,
    actualWarnings: null,
    packets: null,
    family: null,
    locked: null,
    restoring: null,
    awaiting: null,
    databaseError: null,
    manifest: null,
  };
}

const lastLine = (r: CommandResult) =>
  (r.stderrTail.trim() || r.stdoutTail.trim()).split('\n').pop() ?? `exit ${r.exitCode}`;

type Runner = (argv: string[]) => Promise<Ran>;

/** Runs argv on a replica's host within timeoutMs, never throwing; ClearQuest's password on stdin. */
function runnerFor(topology: Topology, node: NodeConfig, fleet: FleetAccess, timeoutMs: number): Runner {
  const host = fleet.host(node);
  // ClearQuest's -password reaches the CLI through stdin and RUN_SCRIPT, never as our argv.
  const passwordEnv = topology.multisite?.passwordEnv;
  const password = passwordEnv ? fleet.secret?.(passwordEnv) : undefined;
  const wrap = (argv: string[]): string[] =>
    passwordEnv && argv[0] !== 'cat'
      ? ['bash', '-c', RUN_SCRIPT, 'probe', 'stdin', String(argv.length), ...argv]
      : argv;
  return (argv) =>
    bounded<Ran>(
      host
        .run(wrap(argv), { timeoutMs, ...(passwordEnv ? { stdin: `${password ?? ''}\n` } : {}) })
        .then((r) =>
          r.exitCode === 0
            ? { ok: true, out: r.stdoutTail }
            : { ok: false, error: lastLine(r), reached: r.exitCode !== null, out: r.stdoutTail },
        ),
      timeoutMs,
      (timedOut, err) => ({
        ok: false,
        reached: false,
        out: '',
        error: timedOut
          ? `no answer within ${timeoutMs} ms`
          : err instanceof Error
            ? err.message
            : String(err),
      }),
    );
}

/** Every command of one host at once (lsreplica, lsepoch, lspacket, the backup manifest). */
export async function probeReplica(
  topology: Topology,
  node: NodeConfig,
  fleet: FleetAccess,
  timeoutMs: number,
): Promise<MultisiteNodeStatus> {
  const status = emptyStatus(node);
  const started = performance.now();
  let cli;
  let run: Runner;
  try {
    cli = cliFor(topology, node);
    run = runnerFor(topology, node, fleet, timeoutMs);
  } catch (err) {
    return { ...status, error: (err as Error).message };
  }
  const manifestPath = nodeSettingsOf(node).manifest;
  const [lsreplica, lsepoch, lspacket, manifest] = await Promise.all([
    run(cli.lsreplica()),
    run(cli.lsepoch(false)),
    run(cli.lspacket()),
    manifestPath
      ? run(['cat', manifestPath])
      : Promise.resolve<Ran>({ ok: false, error: 'none', reached: true, out: '' }),
  ]);
  const reached = [lsreplica, lsepoch, lspacket].some((r) => r.ok || r.reached);
  status.latencyMs = Math.round(performance.now() - started);
  if (!reached) {
    status.error = `unreachable: ${!lsepoch.ok ? lsepoch.error : 'no answer'}`;
    return status;
  }
  status.reachable = true;
  if (lspacket.ok) status.packets = parseLspacket(lspacket.out);
  if (manifest.ok) status.manifest = parseManifest(manifest.out, status.replica);
  if (!lsepoch.ok) {
    status.databaseError = lsepoch.error;
    status.role = 'lost';
    return status;
  }
  const { matrix } = parseLsepoch(lsepoch.out);
  status.matrix = matrix;
  status.ownOps = matrix[status.replica]?.[status.replica] ?? null;
  // No warning unless a sibling's own row says otherwise: then lsepoch -actual is asked (below).
  status.actualWarnings = [];
  if (lsreplica.ok) {
    const entries = parseLsreplica(lsreplica.out);
    status.family = entries.map((e) => e.name);
    const own = entries.find((e) => e.current) ?? entries.find((e) => e.name === status.replica);
    status.restoring = own?.restoring ?? false;
    status.locked = own?.locked ?? status.restoring;
    status.awaiting = own?.awaiting ?? [];
  } else status.error = `lsreplica: ${lsreplica.error}`;
  status.role = status.restoring ? 'restoring' : 'replica';
  return status;
}

/**
 * Replicas some sibling's own (actual) row holds more of than they hold themselves: what
 * `lsepoch -actual` warns about. Asked of the vendor tool only for them, so its words are the
 * evidence, and a healthy family costs no extra round of SSH between sites.
 */
function suspects(nodes: MultisiteNodeStatus[]): { n: MultisiteNodeStatus; against: string }[] {
  return nodes.flatMap((n) => {
    if (n.ownOps === null) return [];
    const holds = (x: MultisiteNodeStatus) => (x.matrix ? (x.matrix[x.replica]?.[n.replica] ?? 0) : 0);
    const most = nodes.filter((x) => x !== n).sort((a, b) => holds(b) - holds(a))[0];
    // Asked against the sibling holding the most of its ops: one round trip, the same warning.
    return most && holds(most) > n.ownOps ? [{ n, against: most.replica }] : [];
  });
}

async function askActual(
  topology: Topology,
  { n, against }: { n: MultisiteNodeStatus; against: string },
  fleet: FleetAccess,
  timeoutMs: number,
) {
  const node = topology.nodes.find((x) => x.name === n.name)!;
  const r = await runnerFor(
    topology,
    node,
    fleet,
    timeoutMs,
  )(cliFor(topology, node).lsepoch(true, [against]));
  // A sibling down prints an error for it and exit 1, but the warnings printed still count.
  n.actualWarnings = r.ok || r.reached ? parseLsepoch(r.out).warnings : null;
}

/** Probe every replica host at once (each bounded by topology.probe.timeoutMs), then apply the rules. */
export async function inspectMultisite(
  topology: Topology,
  fleet: FleetAccess,
  options: InspectOptions & { target?: string | null } = {},
): Promise<MultisiteReport> {
  const started = performance.now();
  const probedAt = new Date().toISOString();
  const timeoutMs = topology.probe.timeoutMs;
  const nodes = await Promise.all(topology.nodes.map((n) => probeReplica(topology, n, fleet, timeoutMs)));
  await Promise.all(suspects(nodes).map((s) => askActual(topology, s, fleet, timeoutMs)));
  const proposal = proposeRestoration({
    replicas: nodes,
    target: options.target ?? null,
    ...(options.lastSeenOwnOps ? { lastSeenOwnOps: options.lastSeenOwnOps } : {}),
  });
  return {
    topology: topology.name,
    flavour: 'multisite',
    probedAt,
    durationMs: Math.round(performance.now() - started),
    nodes,
    warnings: findings(nodes),
    unknown: nodes.filter((n) => n.role === 'unknown').map((n) => n.name),
    proposal,
  };
}

function findings(nodes: MultisiteNodeStatus[]): Finding[] {
  const out: Finding[] = [];
  for (const n of nodes) {
    if (n.role === 'lost')
      out.push({ code: 'database-lost', message: `${n.name}: database unreadable (${n.databaseError})` });
    for (const w of n.actualWarnings ?? [])
      if (w.kind === 'fewer-own')
        out.push({
          code: 'fewer-own-ops',
          message: `${n.name}: lsepoch -actual says ${w.other} holds more of ${w.replica}'s own ops than ${w.replica} itself (restored from backup)`,
        });
  }
  return out;
}
