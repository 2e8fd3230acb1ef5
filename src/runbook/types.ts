import type { DbEngine } from '../config/topology';
import type { Row } from '../db/types';

/** read: observes only; write: changes state that is easy to undo; destructive: needs a second person. */
export type Risk = 'read' | 'write' | 'destructive';

/** Who a step runs on, resolved against a fresh probe and the planner's proposal. */
export type TargetSpec =
  | { kind: 'master' }
  | { kind: 'target' } // the node named with --target (e.g. the slave to rebuild)
  | { kind: 'dedicated-slave' }
  | { kind: 'each-in-sync' } // every consistent slave with the dedicated number
  | { kind: 'each-to-restore' }
  | { kind: 'each-slave' };

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
  | { kind: 'drop-schema' };

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
  | { kind: 'drop-schema' };

export type Check =
  | { kind: 'affected-rows'; equals: number }
  | { kind: 'row-count'; min?: number; max?: number }
  | { kind: 'exit-code'; equals: number };

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
}

export interface Runbook {
  name: string;
  flavour: 'coremedia' | 'tungsten' | 'postgres-streaming' | 'multisite';
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
  engine: DbEngine;
  risk: Risk;
  action: ResolvedAction;
  captures: Capture[];
  check: Check | null;
  /** Steps with the same stage run together (in parallel when there are several); stages run in order. */
  stage: number;
  /** Approval gate id for destructive steps (every step of a gate is approved with one click); null otherwise. */
  gate: string | null;
}

/** The facts from the probe the plan was resolved against. */
export interface PlanBasis {
  probedAt: string;
  dedicatedSequence: number | null;
  dedicatedSlave: string | null;
  inSync: string[];
  toRestore: string[];
  unknown: string[];
  /** Each slave as probed: what a later probe is compared with before destructive steps run. */
  slaves: SlaveFacts[];
  /** For runbooks that report it: publications to replay on the Content Server, known only before the restore. */
  replay?: ReplayReport | null;
}

export interface ReplayReport {
  from: number;
  to: number;
  openEnded: boolean;
  /** Which of seed 000's cases applied, in the planner's words. */
  reasons: string[];
}

export interface SlaveFacts {
  name: string;
  /** Answered and readable; false means the slave was unknown to the plan. */
  known: boolean;
  replicatorRemote: number | null;
  replicatorIdRows: number | null;
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
}
