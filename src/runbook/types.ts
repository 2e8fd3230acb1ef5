import type { DbEngine, FlavourName } from '../config/topology';
import type { Row } from '../db/types';

/** read: observes only; write: changes state that is easy to undo; destructive: needs a second person. */
export type Risk = 'read' | 'write' | 'destructive';

/**
 * Who a step runs on, resolved against a fresh probe and the flavour's proposal: 'target' is the
 * node named with --target; any other kind names one of the flavour's node sets (Flavour.nodeSets,
 * e.g. CoreMedia's 'dedicated-slave', 'each-in-sync'; PostgreSQL's 'candidate', 'old-primary').
 */
export interface TargetSpec {
  kind: string;
}

/**
 * A value bound as a SQL parameter: a literal, or a value captured by an earlier step.
 * `node: 'same'` takes the capture of that step on the same node; 'single' requires that
 * step to have run on exactly one node (e.g. the master's changelog, used on every slave).
 */
export type ValueTemplate =
  { literal: string | number | null } | { capture: string; step: string; node: 'same' | 'single' };

/** After resolution the reference names one concrete plan step. */
export type ResolvedValue = { literal: string | number | null } | { capture: string; planStep: string };

/** SQL text: identifiers written as {{name}} get each engine's quoting (see db/dialect.ts). */
export type ActionTemplate =
  | { kind: 'sql'; sql: string; params: ValueTemplate[] }
  | { kind: 'noop'; sleepMs?: number } // benchmarks and tests of the engine itself
  | {
      kind: 'wait';
      sql: string;
      params: ValueTemplate[];
      until: Check;
      intervalMs: number;
      timeoutMs: number;
    }
  // Executors for the kinds below come with the CoreMedia issue; the engine dispatches by kind.
  | { kind: 'service'; operation: 'stop' | 'start' | 'status' }
  | { kind: 'file-copy'; from: TargetSpec; file: 'rijndael-key' }
  | { kind: 'dump-restore'; from: TargetSpec }
  | { kind: 'drop-schema' }
  | ({ kind: 'command' } & CommandSpec)
  | {
      kind: 'wait-until';
      probe: ProbeTemplate;
      until: Check;
      intervalMs: number;
      timeoutMs: number;
      /** What a timeout means, said first in the failure (e.g. "zero loss could not be proven"); may hold `${name}`. */
      timeoutMessage?: string;
    }
  | RuleAction
  | {
      kind: 'checklist';
      /** One item per node of this set (e.g. every standby), each probed the same way. */
      each: TargetSpec;
      title: string;
      probe: ProbeTemplate;
      until: Check;
      intervalMs: number;
      timeoutMs: number;
      /** Ordered stage names a command probe reports with a last `stage=<name> …` line (engine/checklist-stage.ts). */
      stages?: string[];
    };

/**
 * A program run as argv, on the step node's host over SSH ('host') or on the bot's own host
 * ('local', e.g. a fence command). Elements may hold `${name}` placeholders filled at plan time
 * from the topology by the flavour (Flavour.argValues): a data directory, a conninfo. Nothing a
 * user typed ever reaches it, and every element is quoted before any shell sees it.
 */
export interface CommandSpec {
  argv: string[];
  where: 'host' | 'local';
  /** Bytes for the program's stdin (e.g. psql reading SQL with :'var' literals). */
  stdin?: string;
  /**
   * Name of an environment variable of the bot whose value is written to the program's stdin (one
   * line) when it runs: a password a CLI needs reaches it without being in the plan, the job data,
   * Slack or a log. Only the name is stored; a missing variable fails the step before it runs.
   */
  stdinSecret?: string;
  timeoutMs: number;
  /** Exit codes that mean success (default [0]). */
  okExitCodes?: number[];
  /** Values taken from stdout: the first group of a regex, or a dotted path into JSON output. */
  outputs?: OutputCapture[];
  /**
   * Argv elements may hold `${capture:STEP.NAME}`: a value an earlier step captured, filled in at
   * run time (see capture-args.ts). Each such NAME must have a regex here that the whole value
   * must match, or the command does not run.
   */
  captureFormats?: Record<string, string>;
}

/**
 * A flavour's pure rule run as a step (Flavour.rules): it reads values captured by earlier steps
 * and decides (e.g. Tungsten: reset or not, and the dsctl values); its outputs are captures of
 * its own. A refusal fails the step, so nothing after it runs. Each arg is a string with
 * `${name}` (plan time, from the flavour's argValues) and `${capture:STEP.NAME}` (run time).
 */
export interface RuleAction {
  kind: 'rule';
  rule: string;
  args: Record<string, string>;
}

/** Run a step only when an earlier step captured this value; otherwise it is skipped (and said so). */
export interface StepCondition {
  step: string;
  capture: string;
  equals: string;
}

export type OutputCapture = { name: string; pattern: string } | { name: string; json: string };

/** What a wait or checklist looks at each time: SQL on a node, or a command on its host. */
export type ProbeTemplate =
  { kind: 'sql'; sql: string; params: ValueTemplate[] } | ({ kind: 'command' } & CommandSpec);

export type ResolvedProbe =
  { kind: 'sql'; sql: string; params: ResolvedValue[] } | ({ kind: 'command' } & CommandSpec);

/** One item of a checklist after resolution: its node and what is probed there. */
export interface ChecklistItem {
  id: string;
  title: string;
  node: string;
  probe: ResolvedProbe;
}

export type ResolvedAction =
  | { kind: 'sql'; sql: string; params: ResolvedValue[] }
  | { kind: 'noop'; sleepMs: number }
  | {
      kind: 'wait';
      sql: string;
      params: ResolvedValue[];
      until: Check;
      intervalMs: number;
      timeoutMs: number;
    }
  | { kind: 'service'; operation: 'stop' | 'start' | 'status' }
  | { kind: 'file-copy'; from: string; file: 'rijndael-key' }
  | { kind: 'dump-restore'; from: string }
  | { kind: 'drop-schema' }
  | ({ kind: 'command' } & CommandSpec)
  | {
      kind: 'wait-until';
      probe: ResolvedProbe;
      until: Check;
      intervalMs: number;
      timeoutMs: number;
      timeoutMessage?: string;
    }
  | RuleAction
  | {
      kind: 'checklist';
      items: ChecklistItem[];
      until: Check;
      intervalMs: number;
      timeoutMs: number;
      stages?: string[];
    };

export type Check =
  | { kind: 'affected-rows'; equals: number }
  | { kind: 'row-count'; min?: number; max?: number }
  | { kind: 'exit-code'; equals: number }
  /** The first row's column is true (SQL boolean, 't', 1). */
  | { kind: 'column-true'; column: string }
  /** A captured output equals a value (commands). */
  | { kind: 'output-equals'; name: string; value: string };

/** Take `column` of the first result row into the run under `name` (e.g. sequenceno, idtag). */
export interface Capture {
  name: string;
  column: string;
}

export interface StepTemplate {
  id: string; // a-z, 0-9, '-'
  title: string;
  target: TargetSpec;
  action: ActionTemplate;
  risk: Risk;
  captures?: Capture[];
  check?: Check;
  /** When the target expands to several nodes, run them at once (e.g. the same UPDATE on each slave). */
  independent?: boolean;
  /** Consecutive destructive steps with the same gate are approved together with one click. */
  gate?: string;
  /** Decided at run time from an earlier step's capture (e.g. reset only when the rule said so). */
  when?: StepCondition;
}

export interface Runbook {
  name: string;
  flavour: FlavourName;
  title: string;
  /** The vendor procedure it implements (a file in shared/seeds). */
  source: string;
  /** At the end, report the publications that may need replaying (seed 000). */
  reportsReplay?: boolean;
  /** Whether `--target NODE` is required, and which role it must have. */
  target: 'none' | 'slave' | 'any';
  steps: StepTemplate[];
}

export interface PlanStep {
  /** `${templateId}--${node}`: unique in the plan, safe in job ids (no ':'). */
  id: string;
  templateId: string;
  title: string;
  node: string;
  /** The node's SQL engine; null for a node reached only by commands. */
  engine: DbEngine | null;
  risk: Risk;
  action: ResolvedAction;
  captures: Capture[];
  check: Check | null;
  /** Steps with the same stage run together (in parallel when there are several); stages run in order. */
  stage: number;
  /** Approval gate id for destructive steps (every step of a gate is approved with one click); null otherwise. */
  gate: string | null;
  /** Run only when this capture of that concrete plan step equals the value; else skipped. */
  when?: { planStep: string; capture: string; equals: string };
}

/** The facts from the probe the plan was resolved against. */
export interface PlanBasis {
  flavour: FlavourName;
  probedAt: string;
  /** Nodes whose state could not be read. */
  unknown: string[];
  /** The facts the plan rests on, in one line (shown under a plan's header). */
  summary: string;
  /** What is left for humans once the run is done (seed 000: publications to replay); null: nothing. */
  followUp: string | null;
  /** The flavour's own facts: its drift() compares a later probe with them before destructive steps run. */
  facts: Record<string, unknown>;
}

export interface Plan {
  runbook: string;
  topology: string;
  target: string | null;
  basis: PlanBasis;
  steps: PlanStep[];
  warnings: string[];
  /** sha256 over everything that would execute (runbook, topology, target, steps); not timestamps. */
  hash: string;
}

export interface StepResult {
  ok: boolean;
  /** Up to a few rows, for humans; `rowCount` says how many there were. */
  rows: Row[];
  rowCount: number;
  affectedRows: number | null;
  exitCode: number | null;
  stdoutTail: string | null;
  stderrTail: string | null;
  bytes: number | null;
  durationMs: number;
  captured: Record<string, string>;
  error: string | null;
  note: string | null;
  /** A wait or checklist that does not hold yet: the step goes back to pending and is checked again later. */
  waiting?: boolean;
  /** Each checklist item as last seen. */
  checklist?: ChecklistItemResult[];
}

/** unknown: its probe could not be read (node or host down); it blocks like pending, and says so. */
export type ChecklistItemState = 'done' | 'pending' | 'unknown';

export interface ChecklistItemResult {
  id: string;
  title: string;
  node: string;
  state: ChecklistItemState;
  detail: string;
  /** Where the item stands, as its probe said (`stage=<name>`); absent when it says nothing. */
  stage?: string;
}
