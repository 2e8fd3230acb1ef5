import type { RecoverConfig } from '../config/topology';

/** A parsed `/recover …` request, or a mistake explained. Pure: no I/O. */
export type SlashRequest =
  | { kind: 'help' }
  | { kind: 'status'; topology: string }
  | { kind: 'plan'; topology: string; runbook: string; target: string | null }
  | { kind: 'run'; topology: string; runbook: string; target: string | null }
  | { kind: 'abort'; runId: string }
  | { kind: 'runs'; topology: string | null }
  | { kind: 'timeline'; runId: string };

export type ParseResult = { ok: true; request: SlashRequest } | { ok: false; problem: string; hint: string };

export const SUBCOMMANDS = ['status', 'plan', 'run', 'abort', 'runs', 'timeline', 'help'] as const;

const USAGE: Record<(typeof SUBCOMMANDS)[number], string> = {
  status: '/recover status [TOPOLOGY]',
  plan: '/recover plan TOPOLOGY RUNBOOK [TARGET]',
  run: '/recover run TOPOLOGY RUNBOOK [TARGET]',
  abort: '/recover abort RUN',
  runs: '/recover runs [TOPOLOGY]',
  timeline: '/recover timeline RUN',
  help: '/recover help',
};

const RUN_ID = /^[a-z][a-z0-9_-]{0,62}-\d{8}-\d{6}-[0-9a-f]{4}$/;

/**
 * Parse the text after `/recover`. Names are checked against the topology file and the runbooks,
 * so a typo gets "did you mean" instead of a job that fails later.
 */
export function parseSlashText(
  text: string,
  config: RecoverConfig,
  runbooks: readonly string[],
): ParseResult {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [sub, ...args] = words;
  if (!sub || sub === 'help') return { ok: true, request: { kind: 'help' } };
  if (!(SUBCOMMANDS as readonly string[]).includes(sub))
    return fail(
      `unknown subcommand "${clip(sub)}"`,
      `try one of: ${SUBCOMMANDS.join(', ')}${suggest(sub, SUBCOMMANDS)}`,
    );
  const name = sub as (typeof SUBCOMMANDS)[number];
  const topologies = config.topologies.map((t) => t.name);
  const usage = `usage: ${USAGE[name]}`;

  const topologyAt = (i: number, optional: boolean): string | ParseResult => {
    const given = args[i];
    if (given === undefined) {
      if (optional && topologies.length === 1) return topologies[0]!;
      return fail(`which topology? (have: ${topologies.join(', ')})`, usage);
    }
    if (!topologies.includes(given))
      return fail(
        `unknown topology "${clip(given)}"`,
        `have: ${topologies.join(', ')}${suggest(given, topologies)}`,
      );
    return given;
  };

  switch (name) {
    case 'status': {
      if (args.length > 1) return fail('too many arguments', usage);
      const topology = topologyAt(0, true);
      return typeof topology === 'string' ? { ok: true, request: { kind: 'status', topology } } : topology;
    }
    case 'plan':
    case 'run': {
      if (args.length < 2 || args.length > 3) return fail(`${name} needs a topology and a runbook`, usage);
      const topology = topologyAt(0, false);
      if (typeof topology !== 'string') return topology;
      const runbook = args[1]!;
      if (!runbooks.includes(runbook))
        return fail(
          `unknown runbook "${clip(runbook)}"`,
          `have: ${runbooks.join(', ')}${suggest(runbook, runbooks)}`,
        );
      const target = args[2] ?? null;
      const nodes = config.topologies.find((t) => t.name === topology)!.nodes.map((n) => n.name);
      if (target !== null && !nodes.includes(target))
        return fail(
          `"${clip(target)}" is not a node of ${topology}`,
          `nodes: ${nodes.join(', ')}${suggest(target, nodes)}`,
        );
      return { ok: true, request: { kind: name, topology, runbook, target } };
    }
    case 'abort':
    case 'timeline': {
      const runId = args[0];
      if (args.length !== 1 || !runId) return fail(`${name} needs a run id`, `${usage} (see /recover runs)`);
      if (!RUN_ID.test(runId))
        return fail(
          `"${clip(runId)}" is not a run id`,
          'run ids look like prod-live-20261121-094514-0d8d (see /recover runs)',
        );
      return { ok: true, request: { kind: name, runId } };
    }
    case 'runs': {
      if (args.length > 1) return fail('too many arguments', usage);
      if (args[0] === undefined) return { ok: true, request: { kind: 'runs', topology: null } };
      const topology = topologyAt(0, false);
      return typeof topology === 'string' ? { ok: true, request: { kind: 'runs', topology } } : topology;
    }
    case 'help':
      return { ok: true, request: { kind: 'help' } };
  }
}

function fail(problem: string, hint: string): ParseResult {
  return { ok: false, problem, hint };
}

/** User text echoed back stays short. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function suggest(given: string, options: readonly string[]): string {
  const best = options
    .map((o) => ({ o, d: distance(given.toLowerCase(), o.toLowerCase()) }))
    .sort((a, b) => a.d - b.d)[0];
  return best && best.d <= Math.max(2, Math.floor(best.o.length / 3)) ? ` — did you mean "${best.o}"?` : '';
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
