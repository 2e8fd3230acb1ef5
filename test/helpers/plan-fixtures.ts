/** In-memory topology, probe reports and runbooks for the planner/resolver unit tests. */
import { Topology, type DbEngine } from '../../src/config/topology';
import { proposeDedicatedSlave } from '../../src/flavours/coremedia/propose';
import type { NodeReport } from '../../src/flavours/coremedia/report';
import { resolvePlan } from '../../src/runbook/resolve';
import { slaveFromMasterSql } from '../../src/flavours/coremedia/runbooks/slave-from-master-sql';
import type { Runbook, StepTemplate, TargetSpec } from '../../src/runbook/types';
import type { CoremediaReport as StatusReport } from '../../src/flavours/coremedia/report';

export const ENGINES: Record<string, DbEngine> = {
  mls: 'postgres',
  'rls-1': 'mysql',
  'rls-2': 'postgres',
  'rls-3': 'mysql',
  'rls-4': 'postgres',
};
export const topology: Topology = Topology.parse({
  name: 'live',
  flavour: 'coremedia',
  master: 'mls',
  nodes: Object.entries(ENGINES).map(([name, engine]) => ({
    name,
    db: { engine, host: `${name}.db`, port: engine === 'postgres' ? 5432 : 3306, database: 'cm', user: 'cm' },
  })),
});

export const node = (name: string, over: Partial<NodeReport> = {}): NodeReport => ({
  ...{
    name,
    role: name === 'mls' ? 'master' : 'slave',
    engine: ENGINES[name]!,
    reachable: true,
    error: null,
    replicatorRowsMissing: false,
  },
  ...{ replicatorRemote: null, replicatorLocal: null, replicatorTag: null, replicatorIdRows: 0 },
  ...{ replicatorIdSample: [], serverType: 'live', lastChangelog: null, latencyMs: 2 },
  ...over,
});
export const slave = (name: string, seq: number, idRows = 0) =>
  node(name, {
    replicatorRemote: seq,
    replicatorLocal: seq,
    replicatorTag: `tag-${seq}`,
    replicatorIdRows: idRows,
  });
export const unread = (name: string, error: string, reachable = true) =>
  node(name, { reachable, error, replicatorIdRows: null, serverType: null, latencyMs: null });
export const FRESH = 'system has no replicator_remote row: replication state unknown';
/** A slave just restored from the master's backup: it answers, but has no replicator rows yet. */
export const freshlyRestored = (name: string) => ({ ...unread(name, FRESH), replicatorRowsMissing: true });

export function status(nodes: NodeReport[], probedAt = '2026-11-21T09:00:00.000Z'): StatusReport {
  const fleet = { topology: 'live', flavour: 'coremedia' as const, probedAt, nodes };
  return { ...fleet, ...proposeDedicatedSlave(fleet), durationMs: 40 };
}
export const master = node('mls', {
  serverType: 'publication',
  lastChangelog: { sequenceno: 1050, idtag: 'tag-1050' },
});
/** dedicated rls-1; in sync rls-1, rls-2; to restore rls-3 (behind), rls-4 (inconsistent). */
export const STATUS = status([
  master,
  slave('rls-1', 1042),
  slave('rls-2', 1042),
  slave('rls-3', 1030),
  slave('rls-4', 1042, 2),
]);
export const ALL_IN_SYNC = status([
  master,
  slave('rls-1', 1042),
  slave('rls-2', 1042),
  slave('rls-3', 1042),
  slave('rls-4', 1042),
]);

export const step = (id: string, target: TargetSpec, over: Partial<StepTemplate> = {}): StepTemplate => ({
  id,
  title: `step ${id}`,
  target,
  action: { kind: 'sql', sql: 'SELECT * FROM {{system}}', params: [] },
  risk: 'read',
  ...over,
});
export const runbook = (steps: StepTemplate[], target: Runbook['target'] = 'none'): Runbook => ({
  name: 'test-book',
  flavour: 'coremedia',
  title: 'test',
  source: 'none',
  target,
  steps,
});
export const readMaster = step(
  'read-master',
  { kind: 'master' },
  {
    captures: [{ name: 'sequenceno', column: 'sequenceno' }],
  },
);
export const update = (id: string, target: TargetSpec, over: Partial<StepTemplate> = {}) =>
  step(id, target, {
    action: {
      kind: 'sql',
      sql: "UPDATE {{system}} SET content=? WHERE property='replicator_remote'",
      params: [{ capture: 'sequenceno', step: 'read-master', node: 'single' }],
    },
    risk: 'destructive',
    ...over,
  });
/** Every TargetSpec, stages and gates in one runbook. */
export const SAMPLE = runbook([
  readMaster,
  update('set-rows', { kind: 'each-in-sync' }, { independent: true, gate: 'rows' }),
  step('restore', { kind: 'each-to-restore' }, { action: { kind: 'drop-schema' }, risk: 'destructive' }),
  step('start', { kind: 'each-slave' }, { action: { kind: 'noop' }, risk: 'write', independent: true }),
]);

/** STATUS with rls-3 replaced (rls-4 consistent). */
export const with3 = (rls3: NodeReport) =>
  status([master, slave('rls-1', 1042), slave('rls-2', 1042), rls3, slave('rls-4', 1042)]);
export const planFor = (target: string, s: StatusReport = STATUS) =>
  resolvePlan(slaveFromMasterSql, topology, s, target);
