import type { Plan, PlanStep } from '../runbook/types';
import { auditEvent, topologyOf, type EngineDeps } from './deps';
import type { Fence } from './finish';
import { stepTagPrefix } from '../db/step-tag';
import { flavourOf } from '../flavours/registry';
import type { AuditKind, RunRecord } from './types';

/**
 * Stop the run for a human, with the reason and its audit event in one atomic write (a crash
 * cannot leave a halted run without its `halt` event).
 */
export async function haltRun(
  deps: EngineDeps,
  run: RunRecord,
  fence: Fence,
  reason: string,
  stepId: string | null,
  detail: Record<string, unknown>,
  kind: AuditKind = 'halt',
  unknownSteps?: string[],
): Promise<void> {
  await deps.ledger.setRunState(run.id, 'halted', fence, reason, {
    events: auditEvent(deps, { runId: run.id, kind, actor: null, stepId, summary: reason, detail }),
  });
  await deps.notifier.notify({
    type: 'run-halted',
    run: { ...run, state: 'halted', reason },
    stepId: stepId ?? '',
    reason,
    ...(unknownSteps ? { unknownSteps } : {}),
  });
}

/**
 * Steps found `running` with no live worker: reads go back to pending and run again; any other
 * step's outcome is unknown. Before saying so, what a dead attempt may still have running on a
 * database is cancelled, and the halt says what each node now holds.
 */
export async function haltOnUnknown(
  deps: EngineDeps,
  run: RunRecord,
  plan: Plan,
  orphans: PlanStep[],
  fence: Fence,
): Promise<void> {
  const reads = orphans.filter((p) => p.risk === 'read');
  const others = orphans.filter((p) => p.risk !== 'read');
  for (const p of reads) await deps.ledger.transitionStep(run.id, p.id, ['running'], 'pending', {}, fence);
  if (others.length === 0 && reads.length > 0) return deps.queue.advance(run.id, reads[0]!.stage, 'reread');

  const topology = topologyOf(deps, run.topology);
  const records = new Map((await deps.ledger.getSteps(run.id)).map((r) => [r.stepId, r]));
  const cancelled: string[] = [];
  // Every session of the step's attempts, on its node and (a dump→restore) its source.
  if (deps.leftovers)
    for (const p of others) {
      const nodes = p.action.kind === 'dump-restore' ? [p.node, p.action.from] : [p.node];
      cancelled.push(
        ...(await deps.leftovers.cancel(topology, nodes, stepTagPrefix({ runId: run.id, stepId: p.id }))),
      );
    }
  for (const p of others) await deps.ledger.transitionStep(run.id, p.id, ['running'], 'unknown', {}, fence);

  const unknown = plan.steps.filter(
    (p) => p.risk !== 'read' && (records.get(p.id)?.state === 'unknown' || others.includes(p)),
  );
  const nodes = [...new Set(unknown.map((p) => p.node))];
  const holdings = deps.leftovers ? await deps.leftovers.describe(topology, nodes).catch(() => []) : [];
  const status = await deps.inspect(topology).catch(() => null);
  const flavour = flavourOf(topology.flavour);
  const outcomes = status ? unknown.flatMap((p) => flavour.unknownOutcome?.(p, status) ?? []) : [];
  const names = unknown.map((p) => p.id).join(', ');
  const reason = [
    `${names} ${unknown.length > 1 ? 'were' : 'was'} running when the worker stopped: outcome unknown`,
    ...cancelled,
    ...holdings,
    ...outcomes,
    `Check the node${nodes.length > 1 ? 's' : ''}, then decide retry, mark-done or abort for each`,
  ].join('. ');
  const ids = unknown.map((p) => p.id);
  const probe =
    status?.nodes.map((n) => ({
      name: n.name,
      reachable: n.reachable,
      error: n.error,
    })) ?? null;
  await haltRun(
    deps,
    run,
    fence,
    reason,
    ids[0] ?? null,
    { unknown: ids, cancelled, holdings, probe },
    'halt',
    ids,
  );
}
