import { performance } from 'node:perf_hooks';
import { flavourOf } from '../flavours/registry';
import { CaptureArgError, fillCaptureRefs } from '../runbook/capture-args';
import { emptyResult } from '../runbook/sql-executor';
import type { ExecutorRegistry } from './executors';

/**
 * The executor for `rule` steps: a flavour's pure decision over values earlier steps captured
 * (Flavour.rules). Nothing is reached; a refusal fails the step with the rule's code and words,
 * so the run stops before anything that depends on the decision.
 */
export function ruleActionExecutors(): ExecutorRegistry {
  return {
    rule: async (step, ctx) => {
      if (step.action.kind !== 'rule') throw new Error(`not a rule step: ${step.id}`);
      const started = performance.now();
      const done = (r: Partial<ReturnType<typeof emptyResult>>) => ({
        ...emptyResult(),
        ...r,
        durationMs: performance.now() - started,
      });
      const rule = flavourOf(ctx.topology.flavour).rules?.[step.action.rule];
      if (!rule) return done({ error: `flavour ${ctx.topology.flavour} has no rule ${step.action.rule}` });
      const args: Record<string, string> = {};
      try {
        for (const [k, v] of Object.entries(step.action.args))
          args[k] = fillCaptureRefs(v, ctx.captured, null);
      } catch (err) {
        if (err instanceof CaptureArgError) return done({ error: `not decided: ${err.message}` });
        throw err;
      }
      const outcome = rule(args);
      if (!outcome.ok) return done({ error: `refused [${outcome.code}]: ${outcome.message}` });
      return done({ ok: true, captured: outcome.values, note: outcome.note });
    },
  };
}
