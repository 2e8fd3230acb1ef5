import { createHash } from 'node:crypto';
import type { DbEngine, Topology } from '../config/topology';
import { flavourOf } from '../flavours/registry';
import type { Flavour, NodeSetContext } from '../flavours/types';
import { PlanError, planFail } from './plan-error';
import { ident } from '../db/dialect';
import { toPostgresPlaceholders } from '../db/placeholders';
import { pinCaptureRefs, type CaptureRef } from './capture-args';
import { captureRefProblems, declaresCapture } from './capture-validation';
import type { StatusReport } from '../status/inspect';
import type {
  ActionTemplate,
  CommandSpec,
  Plan,
  ProbeTemplate,
  ResolvedProbe,
  PlanStep,
  ResolvedAction,
  ResolvedValue,
  Runbook,
  StepTemplate,
  TargetSpec,
  ValueTemplate,
} from './types';

export { PlanError, type PlanErrorCode } from './plan-error';

const fail = planFail;

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
export function validateRunbook(runbook: Runbook, nodeSets?: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, StepTemplate>();
  const specs = (t: StepTemplate): TargetSpec[] =>
    t.action.kind === 'file-copy' || t.action.kind === 'dump-restore'
      ? [t.target, t.action.from]
      : t.action.kind === 'checklist'
        ? [t.target, t.action.each]
        : [t.target];
  for (const t of runbook.steps) {
    const at = `step ${t.id}`;
    if (!STEP_ID.test(t.id)) problems.push(`${at}: id must be a-z, 0-9 and single "-"`);
    if (seen.has(t.id)) problems.push(`${at}: duplicate id`);
    if (runbook.target === 'none' && specs(t).some((s) => s.kind === 'target'))
      problems.push(`${at}: uses the --target node but the runbook takes no target`);
    for (const spec of specs(t))
      if (nodeSets && spec.kind !== 'target' && !nodeSets.includes(spec.kind))
        problems.push(`${at}: targets "${spec.kind}", which is not a node set of ${runbook.flavour}`);
    const a = t.action;
    const sqlProbe =
      (a.kind === 'wait-until' || a.kind === 'checklist') && a.probe.kind === 'sql' ? a.probe : null;
    if (sqlProbe) {
      const placeholders =
        countChar(sqlProbe.sql, '?') - countChar(toPostgresPlaceholders(sqlProbe.sql), '?');
      if (placeholders !== sqlProbe.params.length)
        problems.push(`${at}: ${placeholders} placeholders but ${sqlProbe.params.length} params`);
    }
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
        else if (!declaresCapture(source, p.capture))
          problems.push(`${at}: step ${p.step} captures no ${p.capture}`);
      }
      if (t.check?.kind === 'exit-code' || (a.kind === 'wait' && a.until.kind === 'exit-code'))
        problems.push(`${at}: an exit-code check does not apply to SQL`);
    }
    problems.push(...captureRefProblems(t, seen).map((p) => `${at}: ${p}`));
    seen.set(t.id, t);
  }
  return problems;
}

const countChar = (text: string, ch: string): number => text.split(ch).length - 1;

function sqlEngine(engine: DbEngine | null, t: StepTemplate, node: string): DbEngine {
  return engine ?? fail('bad-runbook', `step ${t.id} runs SQL on ${node}, which has no db in the topology`);
}

function renderSql(engine: DbEngine, sql: string): string {
  return sql.replace(/\{\{([^}]*)\}\}/g, (_, name: string) => ident(engine, name));
}

interface Context {
  flavour: Flavour<StatusReport>;
  sets: NodeSetContext<StatusReport>;
  target: string | null;
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
  const flavourModel = flavourOf(topology.flavour);
  const problems = validateRunbook(runbook, flavourModel.nodeSets);
  if (problems.length > 0) fail('bad-runbook', `runbook ${name} is malformed: ${problems.join('; ')}`);
  checkStatus(topology, status);
  const sets: NodeSetContext<StatusReport> = { report: status, topology, target };
  const warnings = status.warnings.map((w) => w.message);
  warnings.push(...flavourModel.checkTarget(runbook, sets));

  const ctx: Context = { flavour: flavourModel, sets, target, expanded: new Map() };
  const engineOf = new Map(topology.nodes.map((n) => [n.name, n.db?.engine ?? null]));
  const steps: PlanStep[] = [];
  const skipped: { reason: string; index: number; steps: string[] }[] = [];
  let stage = 0;
  for (const t of runbook.steps) {
    const nodes = expand(t.target, t, ctx);
    ctx.expanded.set(t.id, nodes);
    if (nodes.length === 0) {
      // One warning for a run of steps skipped for the same reason (e.g. a whole rewind sequence).
      const reason = flavourModel.emptySetReason(t.target.kind);
      const last = skipped.at(-1);
      if (last && last.reason === reason && last.index === warnings.length - 1) {
        last.steps.push(t.id);
        warnings[last.index] = `${reason}: steps ${last.steps.join(', ')} skipped`;
      } else {
        skipped.push({ reason, index: warnings.length, steps: [t.id] });
        warnings.push(`${reason}: step ${t.id} (${t.title}) skipped`);
      }
      continue;
    }
    const unread = nodes.filter((n) => status.unknown.includes(n) && n !== target);
    if (unread.length > 0)
      warnings.push(`Step ${t.id} runs on ${unread.join(', ')}, whose state could not be read.`);
    for (const [i, node] of nodes.entries()) {
      if (i === 0 || t.independent !== true) stage++;
      const engine = engineOf.get(node) ?? null;
      steps.push({
        id: `${t.id}--${node}`,
        templateId: t.id,
        title: t.title.includes('${') ? fillText(t.title, t, node, ctx) : t.title,
        node,
        engine,
        risk: t.risk,
        action: resolveAction(t, node, engine, ctx),
        captures: t.captures ?? [],
        check: t.check ?? null,
        stage,
        gate: t.risk === 'destructive' ? (t.gate ?? t.id) : null,
        ...(t.when
          ? {
              when: {
                planStep: pinStep({ step: t.when.step, name: t.when.capture }, t, node, ctx),
                capture: t.when.capture,
                equals: t.when.equals,
              },
            }
          : {}),
      });
    }
  }
  checkGates(runbook, steps);

  // Where each node's SQL goes is part of what an approval agrees to; passwords are never here.
  const touched = [...new Set(steps.map((s) => s.node))].sort();
  const where = touched.map((node) => {
    const config = topology.nodes.find((n) => n.name === node)!;
    if (!config.db) return { node, host: config.host ?? null };
    const { engine, host, port, database, user } = config.db;
    return { node, engine, host, port, database, user };
  });
  const hash = sha256(canonicalJson({ runbook: name, topology: topology.name, target, nodes: where, steps }));
  const basis = flavourModel.planBasis(runbook, sets);
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

function expand(spec: TargetSpec, t: StepTemplate, ctx: Context): string[] {
  if (spec.kind === 'target') return [ctx.target ?? fail('bad-runbook', `step ${t.id} needs a --target`)];
  try {
    return ctx.flavour.nodeSet(spec.kind, ctx.sets);
  } catch (err) {
    // Flavours phrase it as what the step needs ("needs the dedicated slave, but …"): name the step.
    if (err instanceof PlanError && err.code !== 'bad-runbook')
      throw new PlanError(err.code, `step ${t.id} (${t.title}) ${err.message}`);
    throw err;
  }
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

function resolveAction(t: StepTemplate, node: string, engine: DbEngine | null, ctx: Context): ResolvedAction {
  const a: ActionTemplate = t.action;
  const values = (params: ValueTemplate[]) => params.map((p) => resolveValue(p, t, node, ctx));
  switch (a.kind) {
    case 'sql':
      return { kind: 'sql', sql: renderSql(sqlEngine(engine, t, node), a.sql), params: values(a.params) };
    case 'wait':
      return { ...a, sql: renderSql(sqlEngine(engine, t, node), a.sql), params: values(a.params) };
    case 'noop':
      return { kind: 'noop', sleepMs: a.sleepMs ?? 0 };
    case 'file-copy':
      return { kind: 'file-copy', file: a.file, from: source(a.from, t, node, ctx) };
    case 'dump-restore':
      return { kind: 'dump-restore', from: source(a.from, t, node, ctx) };
    case 'service':
    case 'drop-schema':
      return { ...a };
    case 'command':
      return { ...withoutSecret(a), ...fillCommand(a, t, node, ctx) };
    case 'rule':
      return {
        kind: 'rule',
        rule: a.rule,
        args: Object.fromEntries(Object.entries(a.args).map(([k, v]) => [k, fillText(v, t, node, ctx)])),
      };
    case 'wait-until':
      return {
        ...a,
        probe: resolveProbe(a.probe, t, node, ctx),
        ...(a.timeoutMessage !== undefined
          ? { timeoutMessage: fillText(a.timeoutMessage, t, node, ctx) }
          : {}),
      };
    case 'checklist': {
      const { each, title, probe, kind: _kind, ...timing } = a;
      const items = expand(each, t, ctx).map((itemNode) => ({
        id: itemNode,
        title: `${title} on ${itemNode}`,
        node: itemNode,
        probe: resolveProbe(probe, t, itemNode, ctx),
      }));
      return { ...timing, kind: 'checklist', items };
    }
  }
}

function resolveProbe(p: ProbeTemplate, t: StepTemplate, node: string, ctx: Context): ResolvedProbe {
  if (p.kind === 'command') return { ...withoutSecret(p), ...fillCommand(p, t, node, ctx) };
  const engine = sqlEngine(ctx.sets.topology.nodes.find((n) => n.name === node)?.db?.engine ?? null, t, node);
  return {
    kind: 'sql',
    sql: renderSql(engine, p.sql),
    params: p.params.map((v) => resolveValue(v, t, node, ctx)),
  };
}

/** The template's secret name is replaced by the filled one (or none). */
function withoutSecret<T extends { stdinSecret?: string }>(c: T): Omit<T, 'stdinSecret'> {
  const { stdinSecret: _name, ...rest } = c;
  return rest;
}

/**
 * `${name}` in argv and stdin, from the flavour's values for this node (topology settings, the
 * proposal): the plan shows the exact command, and its hash covers it. An unknown name is a runbook bug.
 */
function fillCommand(
  c: CommandSpec,
  t: StepTemplate,
  node: string,
  ctx: Context,
): Pick<CommandSpec, 'argv' | 'stdin' | 'stdinSecret'> {
  const values = ctx.flavour.argValues?.(node, ctx.sets) ?? {};
  const fill = (text: string) =>
    text.replace(/\$\{([a-zA-Z0-9_.-]+)\}/g, (_, name: string) =>
      Object.hasOwn(values, name)
        ? values[name]!
        : fail(
            'bad-runbook',
            `step ${t.id} on ${node}: no value for \${${name}} (known: ${Object.keys(values).join(', ') || 'none'})`,
          ),
    );
  // An element that is exactly `${...name}` becomes several: the value is a JSON array of strings
  // (a command line the flavour builds per node, e.g. a dialect's CLI with its options).
  // Any other element is filled, and its run-time `${capture:step.name}` references pinned.
  const spread = (element: string): string[] => {
    const m = /^\$\{\.\.\.([a-zA-Z0-9_.-]+)\}$/.exec(element);
    if (!m) return [pinCaptureRefs(fill(element), (ref) => pinStep(ref, t, node, ctx))];
    const parsed: unknown = Object.hasOwn(values, m[1]!) ? JSON.parse(values[m[1]!]!) : undefined;
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string'))
      fail('bad-runbook', `step ${t.id} on ${node}: \${...${m[1]}} is not a list of arguments`);
    return parsed as string[];
  };
  // A secret's variable name may come from the topology; filled empty, the command takes none.
  const secret = c.stdinSecret !== undefined ? fill(c.stdinSecret) : '';
  return {
    argv: c.argv.flatMap(spread),
    ...(c.stdin !== undefined ? { stdin: fill(c.stdin) } : {}),
    ...(secret ? { stdinSecret: secret } : {}),
  };
}

/** The concrete plan step a run-time reference reads: the same node's, else the one node it ran on. */
function pinStep(ref: CaptureRef, t: StepTemplate, node: string, ctx: Context): string {
  const ran = ctx.expanded.get(ref.step) ?? [];
  if (ran.includes(node)) return `${ref.step}--${node}`;
  if (ran.length === 1) return `${ref.step}--${ran[0]}`;
  return fail(
    ran.length === 0 ? 'missing-capture' : 'ambiguous-capture',
    `step ${t.id} on ${node} needs ${ref.name} from step ${ref.step}, which runs on ${ran.length === 0 ? 'no node' : ran.join(', ')} in this plan`,
  );
}

/** A step title with `${name}` values (e.g. the bytes at risk an approval accepts). */
function fillText(text: string, t: StepTemplate, node: string, ctx: Context): string {
  return fillCommand({ argv: [text], where: 'host', timeoutMs: 1 }, t, node, ctx).argv[0]!;
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
