import { shellQuote } from '../hosts/quote';
import type {
  Check,
  CommandSpec,
  Plan,
  PlanStep,
  ResolvedAction,
  ResolvedProbe,
  ResolvedValue,
} from '../runbook/types';

/** How a check reads to a human: "exactly 1 row affected", "at least 1 row". */
export function describeCheck(check: Check): string {
  const rows = (n: number) => `${n} row${n === 1 ? '' : 's'}`;
  switch (check.kind) {
    case 'affected-rows':
      return `exactly ${rows(check.equals)} affected`;
    case 'row-count':
      if (check.min !== undefined && check.max !== undefined)
        return `between ${check.min} and ${rows(check.max)}`;
      if (check.min !== undefined) return `at least ${rows(check.min)}`;
      if (check.max !== undefined) return `at most ${rows(check.max)}`;
      return 'any number of rows';
    case 'exit-code':
      return `exit code ${check.equals}`;
    case 'column-true':
      return `${check.column} is true`;
    case 'output-equals':
      return `${check.name} = ${check.value}`;
  }
}

/** A parameter as the operator should read it: where its value will come from. */
export function describeValue(value: ResolvedValue): string {
  if ('literal' in value) return value.literal === null ? 'NULL' : JSON.stringify(value.literal);
  return `${value.capture} from ${value.planStep}`;
}

/** `recover plan … --dry-run` in a terminal: every step, exactly as it would run. Nothing is executed. */
export function renderPlanText(plan: Plan, note = 'dry run: nothing executed'): string {
  const b = plan.basis;
  const out = [
    `Plan ${plan.runbook} on ${plan.topology}${plan.target ? `, target ${plan.target}` : ''} (${note})`,
    `Hash ${plan.hash.slice(0, 12)}; probed ${b.probedAt}`,
    `Basis: ${b.summary}`,
  ];

  const stages = [...new Set(plan.steps.map((s) => s.stage))];
  for (const stage of stages) {
    const steps = plan.steps.filter((s) => s.stage === stage);
    out.push('', `Stage ${stage}${steps.length > 1 ? ` (${steps.length} steps at once)` : ''}`);
    for (const step of steps) out.push(...stepLines(step));
  }
  if (plan.steps.length === 0) out.push('', 'No steps: nothing to do for this fleet.');

  const gates = [...new Set(plan.steps.flatMap((s) => (s.gate ? [s.gate] : [])))];
  out.push(
    '',
    gates.length === 0
      ? 'Approvals needed: none'
      : `Approvals needed: ${gates.length} (${gates.map((g) => gateSummary(plan, g)).join(', ')})`,
  );
  if (plan.warnings.length > 0) {
    out.push('', 'Warnings:');
    for (const w of plan.warnings) out.push(`  ! ${w}`);
  }
  return out.join('\n') + '\n';
}

function gateSummary(plan: Plan, gate: string): string {
  const n = plan.steps.filter((s) => s.gate === gate).length;
  return n > 1 ? `${gate}: ${n} steps` : gate;
}

function stepLines(step: PlanStep): string[] {
  const risk = step.risk === 'destructive' ? 'DESTRUCTIVE' : step.risk;
  const gate = step.gate ? `, gate ${step.gate}` : '';
  const lines = [
    `  ${step.id}  on ${step.node}${step.engine ? ` (${step.engine})` : ''}  ${risk}${gate}`,
    `    ${step.title}`,
  ];
  lines.push(...actionLines(step.action).map((l) => `    ${l}`));
  if (step.when)
    lines.push(`    only when ${step.when.planStep} captured ${step.when.capture}=${step.when.equals}`);
  if (step.check) lines.push(`    check: ${describeCheck(step.check)}`);
  if (step.captures.length > 0)
    lines.push(
      `    captures: ${step.captures.map((c) => (c.name === c.column ? c.name : `${c.name} ← ${c.column}`)).join(', ')}`,
    );
  return lines;
}

/** An action as the operator reads it, one line per part: SQL and parameters, argv, what is waited for. */
export function actionLines(action: ResolvedAction): string[] {
  const params = (values: ResolvedValue[]) => values.map((v, i) => `  $${i + 1} = ${describeValue(v)}`);
  switch (action.kind) {
    case 'sql':
      return [action.sql, ...params(action.params)];
    case 'wait':
      return [
        `wait until ${describeCheck(action.until)}, polling every ${action.intervalMs} ms for up to ${action.timeoutMs} ms:`,
        action.sql,
        ...params(action.params),
      ];
    case 'noop':
      return [action.sleepMs > 0 ? `no-op (sleep ${action.sleepMs} ms)` : 'no-op'];
    case 'service':
      return [`service ${action.operation}`];
    case 'file-copy':
      return [`copy the ${action.file} file from ${action.from}`];
    case 'dump-restore':
      return [`dump ${action.from} and restore it here`];
    case 'drop-schema':
      return ['drop the whole database schema'];
    case 'command':
      return commandLines(action);
    case 'wait-until':
      return [
        `wait until ${describeCheck(action.until)}, checking every ${action.intervalMs} ms for up to ${action.timeoutMs} ms:`,
        ...probeLines(action.probe),
      ];
    case 'rule':
      return [
        `decide by the flavour's rule ${action.rule} (values marked \${capture:…} are read at run time):`,
        ...Object.entries(action.args).map(
          ([k, v]) => `  ${k} = ${v.length > 120 ? `${v.slice(0, 117)}...` : v}`,
        ),
      ];
    case 'checklist':
      return [
        `checklist: each item until ${describeCheck(action.until)}, checking every ${action.intervalMs} ms for up to ${action.timeoutMs} ms`,
        ...action.items.flatMap((i) => [
          `- ${i.title} (${i.node}):`,
          ...probeLines(i.probe).map((l) => `    ${l}`),
        ]),
      ];
  }
}

function probeLines(probe: ResolvedProbe): string[] {
  if (probe.kind === 'sql')
    return [probe.sql, ...probe.params.map((v, i) => `  $${i + 1} = ${describeValue(v)}`)];
  return commandLines(probe);
}

function commandLines(c: CommandSpec): string[] {
  const where = c.where === 'local' ? 'on the bot host' : 'on the node host';
  const exits =
    c.okExitCodes && c.okExitCodes.join(',') !== '0' ? ` (ok exit: ${c.okExitCodes.join(', ')})` : '';
  return [
    `$ ${c.argv.map(shellQuote).join(' ')}   # ${where}${exits}`,
    ...(c.stdin ? ['stdin:', ...c.stdin.split('\n').map((l) => `  ${l}`)] : []),
    ...(c.stdinSecret ? [`stdin: the value of $${c.stdinSecret} (a secret: never shown or stored)`] : []),
  ];
}
