import { createHash } from 'node:crypto';
import type { ReplayReport } from './types';
import type { DbEngine, Topology } from '../config/topology';
import { ident } from '../db/dialect';
import { toPostgresPlaceholders } from '../db/placeholders';
import type { StatusReport } from '../status/inspect';
import type {
  ActionTemplate,
  Plan,
  PlanStep,
  ResolvedAction,
  ResolvedValue,
  Runbook,
  StepTemplate,
  TargetSpec,
  ValueTemplate,
} from './types';

export type PlanErrorCode =
  | 'target-required'
  | 'target-unexpected'
  | 'unknown-target'
  | 'bad-target'
  | 'target-unreadable'
  | 'no-dedicated-slave'
  | 'ambiguous-capture'
  | 'missing-capture'
  | 'ambiguous-source'
  | 'self-source'
  | 'wrong-flavour'
  | 'status-mismatch'
  | 'bad-runbook';

/** A plan that cannot be made from this runbook, topology and probe; the message is for the operator. */
export class PlanError extends Error {
  override name = 'PlanError';
  constructor(
    readonly code: PlanErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function fail(code: PlanErrorCode, message: string): never {
  throw new PlanError(code, message);
}

// The probe's words for a slave that answered but has no replicator rows: exactly the state a
// freshly restored database is in, so it is a valid --target (the runbook is what sets them).

const STEP_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** JSON with every object's keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  const v = value as { toJSON?: () => unknown } | null;
  if (v !== null && typeof v === 'object' && typeof v.toJSON === 'function') return sortKeys(v.toJSON());
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) out[key] = sortKeys(item);
  }
  return out;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Hash of a list of steps: compares what remains to run after a re-probe with what was approved. */
export function stepsHash(steps: readonly PlanStep[]): string {
  return sha256(canonicalJson(steps));
}

/** Authoring mistakes in a runbook, one line each; empty when it is well formed. */
export function validateRunbook(runbook: Runbook): string[] {
  const problems: string[] = [];
  const seen = new Map<string, StepTemplate>();
  const specs = (t: StepTemplate): TargetSpec[] =>
    t.action.kind === 'file-copy' || t.action.kind === 'dump-restore'
      ? [t.target, t.action.from]
      : [t.target];
  for (const t of runbook.steps) {
    const at = `step ${t.id}`;
    if (!STEP_ID.test(t.id)) problems.push(`${at}: id must be a-z, 0-9 and single "-"`);
    if (seen.has(t.id)) problems.push(`${at}: duplicate id`);
    if (runbook.target === 'none' && specs(t).some((s) => s.kind === 'target'))
      problems.push(`${at}: uses the --target node but the runbook takes no target`);
    const a = t.action;
    if (a.kind === 'sql' || a.kind === 'wait') {
      for (const [, name] of a.sql.matchAll(/\{\{([^}]*)\}\}/g)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name ?? '')) problems.push(`${at}: bad identifier {{${name}}}`);
      }
      // `?` inside quotes or comments is text, not a placeholder: count only the ones pg would number.
      const placeholders = countChar(a.sql, '?') - countChar(toPostgresPlaceholders(a.sql), '?');
      if (placeholders !== a.params.length)
        problems.push(`${at}: ${placeholders} placeholders but ${a.params.length} params`);
      for (const p of a.params) {
        if (!('capture' in p)) continue;
        const source = seen.get(p.step);
        if (!source) problems.push(`${at}: takes ${p.capture} from ${p.step}, which is not an earlier step`);
        else if (!source.captures?.some((c) => c.name === p.capture))
          problems.push(`${at}: step ${p.step} captures no ${p.capture}`);
      }
      if (t.check?.kind === 'exit-code' || (a.kind === 'wait' && a.until.kind === 'exit-code'))
        problems.push(`${at}: an exit-code check does not apply to SQL`);
    }
    seen.set(t.id, t);
  }
  return problems;
}

const countChar = (text: string, ch: string): number => text.split(ch).length - 1;

function renderSql(engine: DbEngine, sql: string): string {
  return sql.replace(/\{\{([^}]*)\}\}/g, (_, name: string) => ident(engine, name));
}

interface Context {
  topology: Topology;
  status: StatusReport;
  target: string | null;
  slaves: string[];
  /** Template id → the nodes it expanded to (empty when skipped). */
  expanded: Map<string, string[]>;
}

/** Turn a runbook into the concrete steps for this fleet as the probe saw it. Pure. */
export function resolvePlan(
  runbook: Runbook,
  topology: Topology,
  status: StatusReport,
  target: string | null,
): Plan {
  const { name, flavour } = runbook;
  if (flavour !== topology.flavour)
    fail(
      'wrong-flavour',
      `runbook ${name} is for ${flavour} fleets; ${topology.name} is ${topology.flavour}`,
    );
  const problems = validateRunbook(runbook);
  if (problems.length > 0) fail('bad-runbook', `runbook ${name} is malformed: ${problems.join('; ')}`);
  checkStatus(topology, status);
  const warnings = status.warnings.map((w) => w.message);
  warnings.push(...checkTarget(runbook, topology, status, target));

  const slaves = topology.nodes.map((n) => n.name).filter((n) => n !== topology.master);
  const ctx: Context = { topology, status, target, slaves, expanded: new Map() };
  const engineOf = new Map(topology.nodes.map((n) => [n.name, n.db.engine]));
  const steps: PlanStep[] = [];
  let stage = 0;
  for (const t of runbook.steps) {
    const nodes = expand(t.target, t, ctx);
    ctx.expanded.set(t.id, nodes);
    if (nodes.length === 0) {
      warnings.push(`${emptyReason(t.target)}: step ${t.id} (${t.title}) skipped`);
      continue;
    }
    const unread = nodes.filter((n) => status.unknown.includes(n) && n !== target);
    if (unread.length > 0)
      warnings.push(`Step ${t.id} runs on ${unread.join(', ')}, whose state could not be read.`);
    for (const [i, node] of nodes.entries()) {
      if (i === 0 || t.independent !== true) stage++;
      steps.push({
        id: `${t.id}--${node}`,
        templateId: t.id,
        title: t.title,
        node,
        engine: engineOf.get(node)!,
        risk: t.risk,
        action: resolveAction(t, node, engineOf.get(node)!, ctx),
        captures: t.captures ?? [],
        check: t.check ?? null,
        stage,
        gate: t.risk === 'destructive' ? (t.gate ?? t.id) : null,
      });
    }
  }
  checkGates(runbook, steps);

  // Where each node's SQL goes is part of what an approval agrees to; passwords are never here.
  const touched = [...new Set(steps.map((s) => s.node))].sort();
  const where = touched.map((node) => {
    const { engine, host, port, database, user } = topology.nodes.find((n) => n.name === node)!.db;
    return { node, engine, host, port, database, user };
  });
  const hash = sha256(canonicalJson({ runbook: name, topology: topology.name, target, nodes: where, steps }));
  const { probedAt, dedicatedSequence, dedicatedSlave, inSync, toRestore, unknown } = status;
  const slaveFacts = status.nodes
    .filter((n) => n.role === 'slave')
    .map((n) => ({
      name: n.name,
      known: n.reachable && n.error === null,
      replicatorRemote: n.replicatorRemote,
      replicatorIdRows: n.replicatorIdRows,
    }));
  const basis = structuredClone({
    probedAt,
    dedicatedSequence,
    dedicatedSlave,
    inSync,
    toRestore,
    unknown,
    slaves: slaveFacts,
    replay: runbook.reportsReplay ? replayReport(status) : null,
  });
  return { runbook: name, topology: topology.name, target, basis, steps, warnings, hash };
}

function checkStatus(topology: Topology, status: StatusReport): void {
  const probed = status.nodes.map((n) => n.name).sort();
  const configured = topology.nodes.map((n) => n.name).sort();
  if (status.topology !== topology.name || canonicalJson(probed) !== canonicalJson(configured))
    fail(
      'status-mismatch',
      `the probe (${status.topology}: ${probed.join(', ')}) does not match topology ${topology.name} ` +
        `(${configured.join(', ')}): probe again`,
    );
}

/** Validates --target; returns warnings about it. */
function checkTarget(runbook: Runbook, topology: Topology, status: StatusReport, target: string | null) {
  const { name } = runbook;
  const fleet = topology.name;
  if (runbook.target === 'none') {
    if (target !== null) fail('target-unexpected', `runbook ${name} takes no --target (got ${target})`);
    return [];
  }
  const role = runbook.target === 'slave' ? 'a slave' : 'a node';
  if (target === null) fail('target-required', `runbook ${name} needs --target: name ${role} of ${fleet}`);
  const names = topology.nodes.map((n) => n.name);
  if (!names.includes(target))
    fail('unknown-target', `${target} is not a node of ${fleet} (${names.join(', ')})`);
  if (runbook.target === 'slave' && target === topology.master)
    fail('bad-target', `${target} is the master of ${fleet}; runbook ${name} needs a slave as --target`);
  const node = status.nodes.find((n) => n.name === target)!;
  const fresh = node.reachable && node.role === 'slave' && node.replicatorRowsMissing;
  if (fresh)
    return [
      `Target ${target} has no replicator rows yet (as after a restore); the planner counts it as unknown, this runbook sets them.`,
    ];
  if (!node.reachable || node.error !== null || status.unknown.includes(target))
    fail(
      'target-unreadable',
      `${target}'s state could not be read (${node.error ?? 'not fully read'}): fix or re-probe it before planning on it`,
    );
  return [];
}

function expand(spec: TargetSpec, t: StepTemplate, ctx: Context): string[] {
  switch (spec.kind) {
    case 'master':
      return [ctx.topology.master];
    case 'target':
      return [ctx.target ?? fail('bad-runbook', `step ${t.id} needs a --target`)];
    case 'dedicated-slave':
      if (ctx.status.dedicatedSlave === null) {
        const why = ctx.status.warnings.find(
          (w) => w.code === 'no-reachable-slave' || w.code === 'no-consistent-slave',
        );
        fail(
          'no-dedicated-slave',
          `step ${t.id} (${t.title}) needs the dedicated slave, but there is none: ${why?.message ?? 'no slave qualifies'}`,
        );
      }
      return [ctx.status.dedicatedSlave];
    case 'each-in-sync':
      return [...ctx.status.inSync];
    case 'each-to-restore':
      return [...ctx.status.toRestore];
    case 'each-slave':
      return [...ctx.slaves];
  }
}

function emptyReason(spec: TargetSpec): string {
  if (spec.kind === 'each-to-restore') return 'No slave to restore';
  if (spec.kind === 'each-in-sync') return 'No slave in sync with the dedicated sequence';
  return 'No slave in the topology';
}

/** A copy or restore source must be one node, and not the node being overwritten. */
function source(spec: TargetSpec, t: StepTemplate, node: string, ctx: Context): string {
  const nodes = expand(spec, t, ctx);
  if (nodes.length !== 1)
    fail(
      'ambiguous-source',
      `step ${t.id} copies from ${spec.kind}, which is ${nodes.length} nodes (${nodes.join(', ') || 'none'}); it must be exactly one`,
    );
  if (nodes[0] === node) fail('self-source', `step ${t.id} would copy ${node} onto itself`);
  return nodes[0]!;
}

function resolveAction(t: StepTemplate, node: string, engine: DbEngine, ctx: Context): ResolvedAction {
  const a: ActionTemplate = t.action;
  const values = (params: ValueTemplate[]) => params.map((p) => resolveValue(p, t, node, ctx));
  switch (a.kind) {
    case 'sql':
      return { kind: 'sql', sql: renderSql(engine, a.sql), params: values(a.params) };
    case 'wait':
      return { ...a, sql: renderSql(engine, a.sql), params: values(a.params) };
    case 'noop':
      return { kind: 'noop', sleepMs: a.sleepMs ?? 0 };
    case 'file-copy':
      return { kind: 'file-copy', file: a.file, from: source(a.from, t, node, ctx) };
    case 'dump-restore':
      return { kind: 'dump-restore', from: source(a.from, t, node, ctx) };
    case 'service':
    case 'drop-schema':
      return { ...a };
  }
}

function resolveValue(v: ValueTemplate, t: StepTemplate, node: string, ctx: Context): ResolvedValue {
  if ('literal' in v) return { literal: v.literal };
  const ran = ctx.expanded.get(v.step) ?? [];
  const needs = `step ${t.id} on ${node} needs ${v.capture} from step ${v.step}`;
  if (v.node === 'same') {
    if (!ran.includes(node))
      fail('missing-capture', `${needs} on the same node, but ${v.step} does not run on ${node}`);
    return { capture: v.capture, planStep: `${v.step}--${node}` };
  }
  if (ran.length === 0) fail('missing-capture', `${needs}, but ${v.step} runs on no node in this plan`);
  if (ran.length > 1)
    fail(
      'ambiguous-capture',
      `${needs}, which must run on exactly one node but runs on ${ran.length} (${ran.join(', ')})`,
    );
  return { capture: v.capture, planStep: `${v.step}--${ran[0]}` };
}

/** One approval covers a gate's steps only when they are consecutive; a reopened gate is a runbook bug. */
function checkGates(runbook: Runbook, steps: PlanStep[]): void {
  const closed = new Set<string>();
  let current: string | null = null;
  for (const s of steps) {
    if (s.gate === current) continue;
    if (current !== null) closed.add(current);
    if (s.gate !== null && closed.has(s.gate))
      fail(
        'bad-runbook',
        `runbook ${runbook.name}: gate ${s.gate} resumes at ${s.id} after other steps; gated steps must be consecutive`,
      );
    current = s.gate;
  }
}

/** Seed 000's three cases, as the planner found them: dedicated below the highest, master ahead or unknown, slaves unknown. */
const REPLAY_CODES = new Set(['dedicated-below-highest', 'master-ahead', 'master-unknown', 'slaves-unknown']);

function replayReport(status: StatusReport): ReplayReport | null {
  const reasons = status.warnings.filter((w) => REPLAY_CODES.has(w.code)).map((w) => w.message);
  if (!status.replayRange && reasons.length === 0) return null;
  const from = status.replayRange?.from ?? (status.dedicatedSequence ?? 0) + 1;
  const to = status.replayRange?.to ?? from - 1;
  // Without a range the planner could not see far enough: open-ended. With one, only when it says so.
  return { from, to, openEnded: status.replayRange ? status.replayRange.openEnded === true : true, reasons };
}
