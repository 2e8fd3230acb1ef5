/**
 * Plan-time check of the dump tools a plan's dump→restore steps will use on this machine:
 * pg_dump refuses to dump a newer server ("server version mismatch"), and by then the runbook
 * may already have dropped the target's schema. Found at plan time, it is a refusal instead.
 */
import { requireSql, type Topology } from '../config/topology';
import type { DbRegistry } from '../db/connect';
import { pgToolMajor } from '../demo/system-tools';
import { EngineError } from '../engine/deps';
import type { Plan } from '../runbook/types';
import { resolveTools } from './commands';
import { runsOverSsh } from './remote-dump-restore';

export async function checkDumpTools(
  plan: Plan,
  topology: Topology,
  dbs: DbRegistry,
  pathEnv: string | undefined,
): Promise<void> {
  const sources = new Set<string>();
  for (const step of plan.steps) {
    if (step.action.kind !== 'dump-restore') continue;
    const source = topology.nodes.find((n) => n.name === (step.action as { from: string }).from);
    const target = topology.nodes.find((n) => n.name === step.node);
    // Over SSH the dump runs on the source's host, with that host's tools: checked there, at run time.
    if (!source?.db || !target?.db || source.db.engine !== 'postgres') continue;
    if (runsOverSsh(requireSql(source), requireSql(target))) continue;
    sources.add(source.name);
  }
  if (sources.size === 0) return;
  let dump: string;
  try {
    dump = resolveTools('postgres', pathEnv).dump;
  } catch (err) {
    throw new EngineError(
      'dump-tool-too-old',
      `${(err as Error).message}: install the PostgreSQL client tools`,
    );
  }
  const toolMajor = await pgToolMajor(dump);
  if (toolMajor === null) return;
  for (const name of sources) {
    const node = topology.nodes.find((n) => n.name === name)!;
    const serverMajor = await serverMajorOf(dbs, topology, node);
    if (serverMajor !== null && toolMajor < serverMajor)
      throw new EngineError(
        'dump-tool-too-old',
        `${dump} is PostgreSQL ${toolMajor}, older than ${name}'s server (PostgreSQL ${serverMajor}): ` +
          `its dump would fail mid-run ("server version mismatch"). Install the client tools of ` +
          `PostgreSQL ${serverMajor} or newer (e.g. postgresql-client-${serverMajor}) or put them first on PATH`,
      );
  }
}

/** The server's major version; null when the node does not answer (the probe reports that). */
async function serverMajorOf(
  dbs: DbRegistry,
  topology: Topology,
  node: Topology['nodes'][number],
): Promise<number | null> {
  try {
    const r = await dbs.get(node, topology.name).query("SELECT current_setting('server_version_num') AS v");
    const v = Number((r.rows[0] as { v?: unknown } | undefined)?.v);
    return Number.isFinite(v) && v > 0 ? Math.floor(v / 10_000) : null;
  } catch {
    return null;
  }
}
