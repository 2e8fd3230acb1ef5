import { randomBytes } from 'node:crypto';
import { resolvePlan } from '../runbook/resolve';
import { runbookNames } from '../runbook/registry';
import type { Plan } from '../runbook/types';
import { canRequest } from './approval-policy';
import { auditEvent, EngineError, record, topologyOf, type EngineDeps } from './deps';
import type { Actor, RunRecord } from './types';

export interface StartRequest {
  topology: string;
  runbook: string;
  target: string | null;
  requester: Actor;
  dryRun?: boolean;
  /** Given by callers that must know it before the run exists (Slack maps it to a channel first). */
  runId?: string;
  /** The plan the requester looked at (a Start button): if the fleet changed since, nothing starts. */
  expectedPlanHash?: string;
}

export type StartOutcome =
  | { kind: 'dry-run'; plan: Plan }
  | { kind: 'plan-changed'; plan: Plan }
  | { kind: 'started'; run: RunRecord; plan: Plan };

/** Resolve a fresh plan for a request; nothing is executed or written. */
export async function planFor(
  deps: Pick<EngineDeps, 'config' | 'inspect' | 'runbook' | 'checkPlan'>,
  topologyName: string,
  runbookName: string,
  target: string | null,
): Promise<Plan> {
  const topology = topologyOf(deps, topologyName);
  const runbook = deps.runbook(runbookName);
  if (!runbook)
    throw new EngineError(
      'unknown-runbook',
      `no runbook named "${runbookName}" (have: ${runbookNames().join(', ')})`,
    );
  const status = await deps.inspect(topology);
  const plan = resolvePlan(runbook, topology, status, target);
  await deps.checkPlan?.(plan, topology);
  return plan;
}

/** Plan, take the topology's lease, record the run and enqueue its first stage. */
export async function startRun(deps: EngineDeps, req: StartRequest): Promise<StartOutcome> {
  const topology = topologyOf(deps, req.topology);
  if (!canRequest(req.requester, topology.access, await deps.groups(topology.access)))
    throw new EngineError('not-allowed', `${req.requester.id} may not start runs on ${topology.name}`);
  const plan = await planFor(deps, req.topology, req.runbook, req.target);
  if (req.dryRun) return { kind: 'dry-run', plan };
  if (req.expectedPlanHash && req.expectedPlanHash !== plan.hash) return { kind: 'plan-changed', plan };

  const now = deps.clock();
  const run: RunRecord = {
    id: req.runId ?? newRunId(topology.name, now),
    topology: topology.name,
    runbook: req.runbook,
    target: req.target,
    requester: req.requester.id,
    state: 'running',
    planHash: plan.hash,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    reason: null,
    dryRun: false,
  };
  // Lease, run and its first audit events in one atomic write: a crash leaves all or nothing.
  const acquired = await deps.ledger.startRun(run, plan, [
    auditEvent(deps, {
      runId: run.id,
      kind: 'plan',
      actor: run.requester,
      stepId: null,
      summary: `plan ${plan.hash.slice(0, 12)}: ${plan.steps.length} steps of ${plan.runbook}`,
      detail: { planHash: plan.hash, warnings: plan.warnings },
    }),
    auditEvent(deps, {
      runId: run.id,
      kind: 'start',
      actor: run.requester,
      stepId: null,
      summary: `run started by ${run.requester}`,
    }),
  ]);
  if (!acquired.ok) {
    const h = acquired.holder;
    await record(deps, {
      runId: run.id,
      kind: 'refused',
      actor: run.requester,
      stepId: null,
      summary: `start refused: ${h.runId} by ${h.requester} holds ${topology.name} since ${h.since}`,
    });
    throw new EngineError(
      'lease-held',
      `${topology.name} is busy: run ${h.runId} started by ${h.requester} holds it since ${h.since}`,
    );
  }
  await deps.notifier.notify({ type: 'run-started', run, plan });
  await deps.queue.advance(run.id, 0, 'start');
  return { kind: 'started', run, plan };
}

/** Sortable, readable, unique enough for humans to type, and safe in job ids. */
export function newRunId(topology: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15).toLowerCase();
  return `${topology}-${stamp}-${randomBytes(2).toString('hex')}`;
}
