import type { EngineDeps } from '../../src/engine/deps';
import type { AuditEvent, StepRecord } from '../../src/engine/types';
import type { Plan, PlanStep } from '../../src/runbook/types';
import type { ChaosFleet } from './chaos-fleet';
import { changelogRows, keyFileContent, lastChangelog, onNode, systemRows } from './fleet-view';
import type { HumanRecord } from './human';
import { readLog, type LoggedChange } from './log-db';
import type { ToolWrappers } from './tool-wrappers';

export interface Evidence {
  fleet: ChaosFleet;
  wrappers: ToolWrappers;
  deps: EngineDeps;
  runId: string;
  human: HumanRecord;
  /** Epoch ms just before the run was started: fleet evidence before it is the fixture's. */
  since: number;
  /** Each node's server, running or not, just before the run started. */
  initiallyRunning: Map<string, boolean>;
}

/** What the fleet's instrumentation saw during the run, per kind of destructive effect. */
export type EffectCounts = Record<'stops' | 'drops' | 'restores' | 'updates', number>;

/** Every broken promise of issue 11 found in one run, one line each, and what the fleet saw. */
export async function checkRun(e: Evidence): Promise<{ violations: string[]; effects: EffectCounts }> {
  const v: string[] = [];
  const run = await e.deps.ledger.getRun(e.runId);
  const plan = await e.deps.ledger.getPlan(e.runId);
  const steps = await e.deps.ledger.getSteps(e.runId);
  const audit = await e.deps.audit.read(e.runId);
  const effects: EffectCounts = { stops: 0, drops: 0, restores: 0, updates: 0 };
  if (!run || !plan) return { violations: [`run ${e.runId} is missing from the ledger`], effects };
  if (run.state !== 'done') v.push(`run ended ${run.state}, not done${run.reason ? `: ${run.reason}` : ''}`);
  if (e.human.stuck) v.push(`stuck: ${e.human.stuck}`);
  if (run.state === 'done') v.push(...(await finalRows(e.fleet)));
  const log = await readLog(
    e.fleet.engine,
    e.fleet.logDb,
    [...e.fleet.servers.keys()].map(e.fleet.databaseOf),
  );
  v.push(...(await effectsVersusApprovals(e, plan, steps, audit, log)));
  v.push(...auditComplete(e, steps, audit));
  for (const step of plan.steps) {
    const seen = observed(e, step, log);
    const kind = (
      { service: 'stops', 'drop-schema': 'drops', 'dump-restore': 'restores', sql: 'updates' } as const
    )[step.action.kind as 'service' | 'drop-schema' | 'dump-restore' | 'sql'];
    if (seen && kind) effects[kind] += seen.count;
  }
  return { violations: v, effects };
}

/** Seed 000's end state: the master and restored slaves hold the dedicated slave's data, every slave points at the master's last row. */
async function finalRows(f: ChaosFleet): Promise<string[]> {
  const v: string[] = [];
  const dedicated = await changelogRows(f, f.dedicated);
  for (const node of [f.master, ...f.toRestore])
    if ((await changelogRows(f, node)) !== dedicated)
      v.push(`${node}: changelog differs from ${f.dedicated}'s`);
  const last = await lastChangelog(f, f.master);
  for (const node of [...f.inSync, ...f.toRestore]) {
    const s = await systemRows(f, node);
    const want = {
      replicator_remote: last?.sequenceno,
      replicator_local: last?.sequenceno,
      replicator_tag: last?.idtag,
    };
    for (const [k, w] of Object.entries(want))
      if (s[k] !== w) v.push(`${node}: ${k}=${s[k]} but the master's last changelog row says ${w}`);
  }
  for (const node of [f.master, ...f.toRestore]) {
    const t = f.engine === 'mysql' ? '`ReplicatorIdTable`' : 'ReplicatorIdTable';
    const [r] = await onNode(f, node, `SELECT count(*) AS n FROM ${t}`);
    if (Number(r?.n) !== 0) v.push(`${node}: ReplicatorIdTable has ${String(r?.n)} rows after the restore`);
    if (keyFileContent(f, node) !== f.keyContent) v.push(`${node}: the Rijndael key was not copied`);
  }
  for (const [node, server] of f.servers)
    if (!(await server.isRunning())) v.push(`${node}: service not started`);
  return v;
}

/** How many times each destructive step's effect shows in the fleet's own instrumentation. */
function observed(e: Evidence, step: PlanStep, log: LoggedChange[]): { count: number; how: string } | null {
  const db = e.fleet.databaseOf(step.node);
  const a = step.action;
  const after = (at: number) => at >= e.since;
  if (a.kind === 'service' && a.operation === 'stop')
    return {
      count: e.fleet.servers
        .get(step.node)!
        .events()
        .filter((x) => x.op === 'stop' && after(x.at)).length,
      how: 'stops in the Live Server log',
    };
  if (a.kind === 'dump-restore')
    return {
      count: e.wrappers.invocations().filter((i) => i.database === db && after(i.at)).length,
      how: 'restore clients started',
    };
  if (a.kind === 'drop-schema') {
    if (e.fleet.engine !== 'postgres') return null; // MariaDB has no DDL triggers: not observable
    return {
      count: log.filter((l) => l.database === db && l.kind === 'ddl' && l.op === 'DROP SCHEMA').length,
      how: 'DROP SCHEMA in the DDL log',
    };
  }
  if (a.kind === 'sql' && /^UPDATE/i.test(a.sql)) {
    const property = /property='(\w+)'/.exec(a.sql)?.[1];
    return {
      count: log.filter(
        (l) =>
          l.database === db &&
          l.kind === 'dml' &&
          l.op === 'UPDATE' &&
          l.table?.toLowerCase() === 'system' &&
          l.key === property,
      ).length,
      how: `committed UPDATEs of ${property} in the row log`,
    };
  }
  return null;
}

async function effectsVersusApprovals(
  e: Evidence,
  plan: Plan,
  steps: StepRecord[],
  audit: AuditEvent[],
  log: LoggedChange[],
): Promise<string[]> {
  const v: string[] = [];
  // An approval the engine confirmed to bob counts even if its audit event is missing (that gap is reported apart).
  const approvals = (gate: string) =>
    Math.max(
      audit.filter((x) => x.kind === 'approval' && x.detail.gate === gate).length,
      e.human.approvals.filter((g) => g === gate).length,
    );
  const marked = (id: string) =>
    audit.some((x) => x.kind === 'decision' && x.stepId === id && /mark-done/.test(x.summary));
  for (const step of plan.steps) {
    const record = steps.find((s) => s.stepId === step.id);
    const seen = observed(e, step, log);
    if (step.risk === 'destructive' && step.gate && seen && seen.count > approvals(step.gate))
      v.push(
        `${step.id}: ${seen.count} ${seen.how} but only ${approvals(step.gate)} approvals of gate ${step.gate}`,
      );
    if (record?.state !== 'done') continue;
    // Done by a worker's own result (not by a human's mark-done): its effect must show in the fleet.
    if (seen && seen.count === 0 && !marked(step.id) && !alreadyThere(e, step))
      v.push(`${step.id}: done in the ledger (attempts ${record.attempts}) but no ${seen.how}`);
  }
  return v;
}

/** A stop of a server that was already down and an UPDATE to the value already there are rightly effect-free. */
function alreadyThere(e: Evidence, step: PlanStep): boolean {
  const a = step.action;
  // service-control checks the status first and runs nothing when the server is already there.
  if (a.kind === 'service') return e.initiallyRunning.get(step.node) === (a.operation === 'start');
  return false;
}

function auditComplete(e: Evidence, steps: StepRecord[], audit: AuditEvent[]): string[] {
  const v: string[] = [];
  const count = (kind: AuditEvent['kind'], pred: (x: AuditEvent) => boolean = () => true) =>
    audit.filter((x) => x.kind === kind && pred(x)).length;
  for (const s of steps.filter((x) => x.state === 'done')) {
    if (count('step-start', (x) => x.stepId === s.stepId) === 0)
      v.push(`audit: no step-start for done step ${s.stepId}`);
    const byHuman = count('decision', (x) => x.stepId === s.stepId && /mark-done/.test(x.summary)) > 0;
    if (!byHuman && count('step-result', (x) => x.stepId === s.stepId) === 0)
      v.push(`audit: no step-result for done step ${s.stepId} (and no mark-done decision)`);
  }
  if (count('halt') < e.human.haltEpisodes)
    v.push(`audit: ${count('halt')} halt events but the run was seen halting ${e.human.haltEpisodes} times`);
  const tally = (xs: string[]) =>
    xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  for (const [step, n] of tally(e.human.decisions.map((d) => d.stepId)))
    if (count('decision', (x) => x.stepId === step) < n)
      v.push(`audit: ${n} decisions on ${step} confirmed, fewer recorded`);
  for (const [gate, n] of tally(e.human.approvals))
    if (count('approval', (x) => x.detail.gate === gate) < n)
      v.push(`audit: ${n} approvals of ${gate} confirmed, fewer recorded`);
  return v;
}
