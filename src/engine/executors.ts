import type { Topology } from '../config/topology';
import { inStepSession } from '../db/step-session';
import type { Db } from '../db/types';
import type { PlanStep, ResolvedAction, StepResult } from '../runbook/types';
import { emptyResult, executeNoop, executeSqlAction, executeWaitAction } from '../runbook/sql-executor';

export interface ExecContext {
  topology: Topology;
  db(node: string): Db;
  /** A value an earlier step captured, by concrete plan step id and name. */
  captured(planStepId: string, name: string): string | undefined;
  /**
   * This attempt's session tag, `stepTag({ runId, stepId, attempt })` from db/step-tag.ts, set by
   * the engine. Every session and client process of the step carries it, so that cancelLeftovers
   * can find what a dead worker left running. Absent: sessions are untagged (lock waits still bounded).
   */
  tag?: string;
  /** A long step's bytes so far (and the source's size when known); the engine throttles and reports. */
  progress?(bytes: number, totalBytes: number | null): void;
}

export type Executor = (step: PlanStep, ctx: ExecContext) => Promise<StepResult>;

/** Executors by action kind. SSH, file copy and dump→restore plug in here without engine changes. */
export type ExecutorRegistry = Partial<Record<ResolvedAction['kind'], Executor>>;

export function sqlExecutors(): ExecutorRegistry {
  return {
    sql: (step, ctx) =>
      inStepSession(ctx.db(step.node), ctx.tag, (db) => executeSqlAction(db, step, ctx.captured)),
    wait: (step, ctx) => executeWaitAction(ctx.db(step.node), step, ctx.captured),
    noop: (step) => executeNoop(step),
  };
}

export async function execute(
  registry: ExecutorRegistry,
  step: PlanStep,
  ctx: ExecContext,
): Promise<StepResult> {
  const executor = registry[step.action.kind];
  if (!executor) {
    return {
      ...emptyResult(),
      ok: false,
      error: `no executor for "${step.action.kind}" steps is configured in this worker`,
    };
  }
  try {
    return await executor(step, ctx);
  } catch (err) {
    return { ...emptyResult(), ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
