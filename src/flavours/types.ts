import type { DbEngine, NodeConfig, Topology } from '../config/topology';
import type { Db } from '../db/types';
import type { HostExecutor } from '../hosts/types';
import type { MonitorMemory, Observation } from '../monitor/types';
import type { MonitorThresholds } from '../config/topology';
import type { PlanBasis, PlanStep, Runbook } from '../runbook/types';
import type { SlackMessage } from '../slack/blocks/types';

export type { FlavourName } from '../config/topology';
import type { FlavourName } from '../config/topology';

/** A node's service as read over SSH; null where the flavour or topology does not read it. */
export type ServiceProbe = 'running' | 'stopped' | 'unknown';

/** What every flavour reports per node; engine, Slack, shell and monitor read only this. */
export interface NodeStatus {
  name: string;
  /** The flavour's word: master/slave, primary/standby. */
  role: string;
  engine: DbEngine | null;
  /** false: no session at all. `error` set with reachable true: it answered but could not be read. */
  reachable: boolean;
  error: string | null;
  latencyMs: number | null;
  service?: ServiceProbe | null;
}

export interface Finding {
  code: string;
  message: string;
}

/** What every flavour's probe + proposal returns; each flavour extends it with its own facts. */
export interface StatusReport {
  topology: string;
  flavour: FlavourName;
  probedAt: string;
  durationMs: number;
  nodes: NodeStatus[];
  /** Warnings a plan made from this report carries (and the status shows). */
  warnings: Finding[];
  /** Nodes whose state could not be read. */
  unknown: string[];
}

/** How a flavour reaches a node: its database pool and its host (throws HostConfigError without one). */
export interface FleetAccess {
  db(node: NodeConfig): Db;
  host(node: NodeConfig): HostExecutor;
  /** The value of a password variable a topology names (e.g. a MultiSite CLI's); undefined when unset or not given. */
  secret?(envName: string): string | undefined;
}

export interface TopologyProblem {
  /** Path inside the topology, e.g. ['nodes', 2, 'postgres', 'dataDir']. */
  path: (string | number)[];
  message: string;
}

/** What a flavour's node sets are resolved against. */
export interface NodeSetContext<R extends StatusReport> {
  report: R;
  topology: Topology;
  target: string | null;
}

export interface MonitorInput<R extends StatusReport> {
  report: R;
  memory: MonitorMemory;
  thresholds: MonitorThresholds;
  now: Date;
  /** A Recover run holds the topology, or one changed since the previous poll. */
  runExplains: boolean;
  topology: Topology;
}

export interface MonitorEvaluation {
  memory: MonitorMemory;
  active: Observation[];
  indeterminate: string[];
}

/** What a flavour rule step decided: values later steps use, or a refusal that stops the run. */
export type RuleOutcome =
  { ok: true; values: Record<string, string>; note: string } | { ok: false; code: string; message: string };

/** A pure decision over captured values (a `rule` step, see runbook/types.ts RuleAction). */
export type FlavourRule = (args: Readonly<Record<string, string>>) => RuleOutcome;

/**
 * One replicated system, whole: everything the flavour-blind engine, Slack, shell, CLI and
 * monitor need to know about it. Registered in `registry.ts`; one folder per flavour.
 */
export interface Flavour<R extends StatusReport = StatusReport> {
  readonly name: FlavourName;
  readonly title: string;
  /** Rules beyond the shared topology schema (required sections, a master, SQL on every node). */
  checkTopology(topology: Topology): TopologyProblem[];
  /** Probe every node (concurrently, each bounded) and propose; never throws for a node's failure. */
  inspect(topology: Topology, fleet: FleetAccess): Promise<R>;
  readonly runbooks: readonly Runbook[];
  /** Names runbook steps may target besides 'target' (the --target node). */
  readonly nodeSets: readonly string[];
  /** The nodes of one named set; throws PlanError when the set cannot be formed (e.g. no candidate). */
  nodeSet(name: string, ctx: NodeSetContext<R>): string[];
  /** The nodes a runbook that needs --target would sensibly act on now (a Plan button each). */
  planTargets(runbook: Runbook, report: R): string[];
  /** Values for `${name}` in command argv on a node (its data directory, the candidate's conninfo). */
  argValues?(node: string, ctx: NodeSetContext<R>): Record<string, string>;
  /** Why a set is empty, for the "step skipped" warning. */
  emptySetReason(name: string): string;
  /** Validates --target for this runbook (throws PlanError); returns warnings about it. */
  checkTarget(runbook: Runbook, ctx: NodeSetContext<R>): string[];
  /** The facts a plan rests on: stored with it, compared by `drift` before destructive steps. */
  planBasis(runbook: Runbook, ctx: NodeSetContext<R>): PlanBasis;
  /** One line per fact that changed, among nodes the run has not touched. */
  drift(basis: PlanBasis, report: R, touched: ReadonlySet<string>): string[];
  /**
   * What a fresh probe says about a step whose worker died mid-way (a halt's "outcome unknown"),
   * so whoever chooses retry or mark-done reads the answer instead of guessing. Null: nothing to add.
   */
  unknownOutcome?(step: PlanStep, report: R): string | null;
  /**
   * One line on what a node's database holds now, for the same halt (CoreMedia: tables,
   * changelog, replicator_remote, ReplicatorIdTable). Read-only, never throws. Absent: not said.
   */
  holdings?(db: Db): Promise<string>;
  /** What is left for humans after the run finished (seed 000: publications to replay). */
  followUp(basis: PlanBasis): string | null;
  /** Ambient conditions, or null when the flavour is not watched. */
  monitor: ((input: MonitorInput<R>) => MonitorEvaluation) | null;
  render: {
    statusText(report: R): string;
    statusMessage(report: R, runbooks: string[]): SlackMessage;
    /** The basis lines a plan shows under its header. */
    basisLines(basis: PlanBasis): string[];
    /** The proposal in one line (alerts, shell). */
    proposalLine(report: R): string;
  };
  /** `recover status --json`. */
  toJson(report: R): unknown;
  /** Decisions `rule` steps of its runbooks call by name at run time. */
  readonly rules?: Readonly<Record<string, FlavourRule>>;
}
