import { performance } from 'node:perf_hooks';
import type { NodeConfig, Topology } from '../config/topology';
import { DbError } from '../db/errors';
import type { HostExecutors } from '../hosts/executors';
import { LocalExecutor } from '../hosts/local-executor';
import type { CommandResult, HostExecutor } from '../hosts/types';
import { emptyResult, executeSqlProbe } from '../runbook/sql-executor';
import type {
  Check,
  ChecklistItemResult,
  CommandSpec,
  OutputCapture,
  PlanStep,
  ResolvedProbe,
  StepResult,
} from '../runbook/types';
import { stageOf, stagesForOthers } from './checklist-stage';
import type { ExecContext, ExecutorRegistry } from './executors';
import { CaptureArgError, fillCaptureRefs } from '../runbook/capture-args';

export interface CommandActionOptions {
  hosts: Pick<HostExecutors, 'get'>;
  /** Runs 'local' commands (on the bot's own host); a LocalExecutor by default. */
  local?: HostExecutor;
  secrets?: readonly string[];
  /** The value of a `stdinSecret` environment variable (never stored, never shown). */
  secretValue?: (envName: string) => string | undefined;
}

/** Executors for `command`, `wait-until` and `checklist` steps. */
export function commandActionExecutors(o: CommandActionOptions): ExecutorRegistry {
  const local = o.local ?? new LocalExecutor('bot-host', { secrets: o.secrets ?? [] });
  const hostOf = (topology: Topology, node: string, spec: CommandSpec): HostExecutor =>
    spec.where === 'local' ? local : o.hosts.get(nodeConfig(topology, node));
  return {
    command: async (step, ctx) => {
      if (step.action.kind !== 'command') throw new Error(`not a command step: ${step.id}`);
      const spec = withCaptures(step.action, ctx);
      if ('error' in spec) return { ...emptyResult(), error: spec.error };
      return runCommand(hostOf(ctx.topology, step.node, spec), spec, step.check, o.secretValue);
    },
    'wait-until': async (step, ctx) => {
      if (step.action.kind !== 'wait-until') throw new Error(`not a wait-until step: ${step.id}`);
      const started = performance.now();
      const seen = await probeOnce(
        step.action.probe,
        step.node,
        step.action.until,
        step,
        ctx,
        hostOf,
        o.secretValue,
      );
      return {
        ...seen.result,
        ok: seen.state === 'done',
        waiting: seen.state !== 'done',
        error: seen.state === 'done' ? null : seen.detail,
        durationMs: performance.now() - started,
      };
    },
    checklist: async (step, ctx) => {
      if (step.action.kind !== 'checklist') throw new Error(`not a checklist step: ${step.id}`);
      const { items, until } = step.action;
      const started = performance.now();
      const seen = await Promise.all(
        items.map((i) => probeOnce(i.probe, i.node, until, step, ctx, hostOf, o.secretValue)),
      );
      // Reports about other items (a hub's view of its spokes), from every probe that answered.
      const others = new Map(
        seen.flatMap((s) => (s.state === 'unknown' ? [] : [...stagesForOthers(s.result.stdoutTail)])),
      );
      const checklist: ChecklistItemResult[] = items.map((i, n) => {
        const own = seen[n]!.state === 'unknown' ? null : stageOf(seen[n]!.result.stdoutTail);
        const said = seen[n]!.state === 'unknown' ? null : (others.get(i.id) ?? own);
        return {
          id: i.id,
          title: i.title,
          node: i.node,
          state: seen[n]!.state,
          detail: said ? said.detail : seen[n]!.detail,
          ...(said ? { stage: said.stage } : {}),
        };
      });
      const open = checklist.filter((c) => c.state !== 'done');
      return {
        ...emptyResult(),
        ok: open.length === 0,
        waiting: open.length > 0,
        checklist,
        error:
          open.length === 0
            ? null
            : open.map((c) => `${c.title}: ${c.stage ?? c.state} (${c.detail})`).join('; '),
        note: `${checklist.length - open.length} of ${checklist.length} done`,
        durationMs: performance.now() - started,
      };
    },
  };
}

/** Argv with its run-time captures filled in (capture-args.ts); a missing or malformed value: nothing runs. */
function withCaptures<S extends CommandSpec>(spec: S, ctx: ExecContext): S | { error: string } {
  try {
    const argv = spec.argv.map((a) => fillCaptureRefs(a, ctx.captured, spec.captureFormats ?? {}));
    return { ...spec, argv };
  } catch (err) {
    if (err instanceof CaptureArgError) return { error: `not run: ${err.message}` };
    throw err;
  }
}

function nodeConfig(topology: Topology, name: string): NodeConfig {
  const node = topology.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`node ${name} is not in topology ${topology.name}`);
  return node;
}

type HostOf = (topology: Topology, node: string, spec: CommandSpec) => HostExecutor;

interface Seen {
  state: ChecklistItemResult['state'];
  detail: string;
  result: StepResult;
}

/** One look at a wait's or checklist item's condition. Unreadable is 'unknown', never "not yet". */
async function probeOnce(
  probe: ResolvedProbe,
  node: string,
  until: Check,
  step: PlanStep,
  ctx: ExecContext,
  hostOf: HostOf,
  secretValue?: (envName: string) => string | undefined,
): Promise<Seen> {
  if (probe.kind === 'sql') {
    try {
      const { result, problem } = await executeSqlProbe(ctx.db(node), probe, until, ctx.captured);
      return { state: problem === null ? 'done' : 'pending', detail: problem ?? 'holds', result };
    } catch (err) {
      if (!(err instanceof DbError)) throw err;
      return { state: 'unknown', detail: err.message, result: { ...emptyResult(), error: err.message } };
    }
  }
  const spec = withCaptures(probe, ctx);
  if ('error' in spec)
    return { state: 'pending', detail: spec.error, result: { ...emptyResult(), error: spec.error } };
  let result: StepResult;
  try {
    result = await runCommand(hostOf(ctx.topology, node, spec), spec, until, secretValue);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { state: 'unknown', detail: message, result: { ...emptyResult(), error: message } };
  }
  // No exit code: the host could not be reached or the command was cut off.
  if (result.exitCode === null) return { state: 'unknown', detail: result.error ?? 'no exit code', result };
  return { state: result.ok ? 'done' : 'pending', detail: result.error ?? 'holds', result };
}

/** Run a command; its exit code, outputs and check decide `ok`. Never throws for the command's own failure. */
export async function runCommand(
  exec: HostExecutor,
  spec: CommandSpec,
  check: Check | null,
  secretValue?: (envName: string) => string | undefined,
): Promise<StepResult> {
  const started = performance.now();
  let stdin = spec.stdin;
  if (spec.stdinSecret !== undefined) {
    const secret = secretValue?.(spec.stdinSecret);
    if (secret === undefined)
      return {
        ...emptyResult(),
        error: `environment variable ${spec.stdinSecret} is not set for the bot: nothing was run`,
        durationMs: performance.now() - started,
      };
    stdin = `${secret}\n`;
  }
  let r: CommandResult;
  try {
    r = await exec.run(spec.argv, {
      timeoutMs: spec.timeoutMs,
      ...(stdin !== undefined ? { stdin } : {}),
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ...emptyResult(), error: message, durationMs: performance.now() - started };
  }
  const base: StepResult = {
    ...emptyResult(),
    exitCode: r.exitCode,
    stdoutTail: r.stdoutTail,
    stderrTail: r.stderrTail,
    durationMs: r.durationMs,
  };
  if (r.timedOut || r.exitCode === null)
    return {
      ...base,
      error: r.timedOut ? `timed out after ${spec.timeoutMs} ms` : `ended by ${r.signal ?? 'a signal'}`,
    };
  const okCodes = spec.okExitCodes ?? [0];
  if (check?.kind !== 'exit-code' && !okCodes.includes(r.exitCode))
    return {
      ...base,
      error: `exit ${r.exitCode}${lastLine(r.stderrTail) ? `: ${lastLine(r.stderrTail)}` : ''}`,
    };
  const outputs = captureOutputs(spec.outputs ?? [], r.stdoutTail);
  if ('error' in outputs) return { ...base, error: outputs.error };
  const problem = check ? commandCheckProblem(check, r.exitCode, outputs.values) : null;
  return { ...base, ok: problem === null, captured: outputs.values, error: problem };
}

function commandCheckProblem(check: Check, exitCode: number, values: Record<string, string>): string | null {
  switch (check.kind) {
    case 'exit-code':
      return exitCode === check.equals ? null : `expected exit ${check.equals}, got ${exitCode}`;
    case 'output-equals':
      return values[check.name] === check.value
        ? null
        : `${check.name} is ${values[check.name] ?? 'not captured'}, not ${check.value}`;
    default:
      throw new Error(`a ${check.kind} check does not apply to a command`);
  }
}

function captureOutputs(
  captures: readonly OutputCapture[],
  stdout: string,
): { values: Record<string, string> } | { error: string } {
  const values: Record<string, string> = {};
  let json: unknown;
  for (const c of captures) {
    if ('pattern' in c) {
      const m = new RegExp(c.pattern, 'm').exec(stdout);
      if (!m || m[1] === undefined) return { error: `no ${c.name} in the output (pattern /${c.pattern}/)` };
      values[c.name] = m[1];
      continue;
    }
    try {
      json ??= JSON.parse(stdout);
    } catch {
      return { error: `the output is not JSON (needed for ${c.name})` };
    }
    const value = c.json
      .split('.')
      .reduce<unknown>((v, key) => (v as Record<string, unknown> | null)?.[key], json);
    if (value === undefined || value === null)
      return { error: `no ${c.json} in the JSON output (for ${c.name})` };
    values[c.name] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return { values };
}

const lastLine = (text: string): string => text.trim().split('\n').pop() ?? '';
