import type { Topology } from '../config/topology';
import type { Db } from '../db/types';
import type { PlanStep, ResolvedAction, StepResult } from '../runbook/types';
import { emptyResult, executeNoop, executeSqlAction, executeWaitAction } from '../runbook/sql-executor';

export interface ExecContext {
  topology: Topology;
  db(node: string): Db;
  /** A value an earlier step captured, by concrete plan step id and name. */
  captured(planStepId: string, name: string): string | undefined;
  /** Names this attempt of the step (recover/<run>/<step>/<attempt>) on the sessions it opens. */
  tag?: string;
}

export type Executor = (step: PlanStep, ctx: ExecContext) => Promise<StepResult>;

/** Executors by action kind. SSH, file copy and dump→restore plug in here without engine changes. */
export type ExecutorRegistry = Partial<Record<ResolvedAction['kind'], Executor>>;

export function sqlExecutors(): ExecutorRegistry {
  return {
    sql: (step, ctx) => executeSqlAction(ctx.db(step.node), step, ctx.captured),
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
