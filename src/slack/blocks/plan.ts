import type { KnownBlock } from '@slack/types';
import type { Plan, PlanStep } from '../../runbook/types';
import { ACTION } from '../constants';
import {
  actions,
  button,
  composeMessage,
  context,
  escapeMrkdwn,
  fitItems,
  header,
  lineSections,
  MAX_BLOCKS,
  MESSAGE_TEXT_BUDGET,
  section,
  textLength,
} from './limits';
import { groupSteps, groupText, inline, plural, stepDetail, stepHeading } from './parts';
import type { SlackMessage, StartButtonValue } from './types';

const NOTE_ROOM = 300;

/** `/recover plan`: every step with its exact SQL, the approvals it will need, and Start. */
export function planMessage(plan: Plan): SlackMessage {
  const term = inline(
    `recover plan ${plan.topology} ${plan.runbook}${plan.target ? ` --target ${plan.target}` : ''}`,
  );
  const b = plan.basis;
  const head: KnownBlock[] = [
    header(`Plan: ${plan.runbook} on ${plan.topology}`),
    section(
      `*Target:* ${plan.target ? inline(plan.target) : 'none'} · *Hash:* ${inline(plan.hash.slice(0, 12))} · ${summary(plan)}`,
    ),
    context(`Basis (probed ${escapeMrkdwn(b.probedAt)}): ${escapeMrkdwn(b.summary)}`),
  ];

  const gates = [...new Set(plan.steps.flatMap((s) => (s.gate ? [s.gate] : [])))];
  const after: KnownBlock[] = [
    section(
      gates.length === 0
        ? '*Approvals needed:* none'
        : `*Approvals needed:* ${gates.length} (${escapeMrkdwn(gates.map((g) => gateSummary(plan, g)).join(', '))})`,
    ),
  ];
  if (plan.warnings.length > 0)
    after.push(
      ...lineSections(
        ['*Warnings*', ...plan.warnings.map((w) => `:warning: ${escapeMrkdwn(w)}`)],
        1500,
        (n) => `… ${plural(n, 'more warning')} not shown — run ${term} in a terminal for all`,
      ),
    );

  const start = actions([
    plan.steps.length === 0
      ? null
      : button({
          text: 'Start',
          actionId: ACTION.startRun,
          style: 'primary',
          value: {
            topology: plan.topology,
            runbook: plan.runbook,
            target: plan.target,
            planHash: plan.hash,
          } satisfies StartButtonValue,
          confirm: {
            title: 'Start the run?',
            text: `Start ${plan.runbook} on ${plan.topology}? Destructive steps will wait for a second person.`,
            confirm: 'Start',
          },
        }),
  ]);

  const fixed = [...head, ...after, ...(start ? [start] : [])];
  const room = {
    blocks: MAX_BLOCKS - fixed.length - 1,
    chars: MESSAGE_TEXT_BUDGET - textLength(fixed) - NOTE_ROOM,
  };
  const steps: KnownBlock[] =
    plan.steps.length === 0
      ? [section('No steps: nothing to do for this fleet.')]
      : stepBlocks(plan.steps, room, term);

  const fallback = `Plan ${plan.runbook} on ${plan.topology}${plan.target ? ` (target ${plan.target})` : ''}: ${summary(plan)}, hash ${plan.hash.slice(0, 12)}`;
  return composeMessage(
    escapeMrkdwn(fallback),
    [...head, ...steps, ...after],
    `Part of this plan not shown — run ${term} in a terminal for all`,
    [start],
  );
}

function summary(plan: Plan): string {
  const stages = new Set(plan.steps.map((s) => s.stage)).size;
  const risks = (['read', 'write', 'destructive'] as const)
    .map((r) => [r, plan.steps.filter((s) => s.risk === r).length] as const)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${n} ${r}`);
  return `${plural(plan.steps.length, 'step')} in ${plural(stages, 'stage')}${risks.length ? `: ${risks.join(', ')}` : ''}`;
}

function gateSummary(plan: Plan, gate: string): string {
  const n = plan.steps.filter((s) => s.gate === gate).length;
  return n > 1 ? `${gate}: ${n} steps` : gate;
}

/**
 * One block per step when they all fit; else one block per group of steps that run the same
 * action in the same stage (typically one statement on many slaves); else cut with a note.
 */
function stepBlocks(steps: PlanStep[], room: { blocks: number; chars: number }, term: string): KnownBlock[] {
  const full = fitItems(
    steps.map((s, i) => ({
      block: section(`*${i + 1}.* ${stepHeading(s)} · stage ${s.stage}\n${stepDetail(s, 1500)}`),
      weight: 1,
    })),
    room,
  );
  if (full.omitted === 0) return full.blocks;

  const grouped = fitItems(
    groupSteps(steps, true).map((g) => ({ block: section(groupText(g, 800)), weight: g.length })),
    room,
  );
  if (grouped.omitted === 0) return grouped.blocks;
  return [
    ...grouped.blocks,
    context(`… ${plural(grouped.omitted, 'more step')} not shown — run ${term} in a terminal for all`),
  ];
}
