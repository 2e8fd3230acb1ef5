import type { KnownBlock } from '@slack/types';
import { getRunbook } from '../../runbook/registry';
import { flavourOf } from '../../flavours/registry';
import type { StatusReport } from '../../flavours/types';
import { ACTION } from '../constants';
import { actions, button, context, MAX_BLOCKS } from './limits';
import { inline } from './parts';
import type { PlanButtonValue, SlackMessage } from './types';

/** Target buttons per runbook; beyond, the command to type. */
const MAX_TARGETS = 4;

/**
 * The status message with its Plan buttons, where a runbook that acts on one node (a slave to
 * rebuild) gets a button per node that needs it — "Plan slave-from-master rls-3" — instead of one
 * button without a target that could never work. No node needs it: the command to type instead.
 */
export function statusWithPlans(report: StatusReport, runbooks: string[]): SlackMessage {
  const needsTarget = (name: string) => (getRunbook(name)?.target ?? 'none') !== 'none';
  const flavour = flavourOf(report.flavour);
  const message = flavour.render.statusMessage(
    report,
    runbooks.filter((r) => !needsTarget(r)),
  );
  const extra: KnownBlock[] = [];
  for (const runbook of runbooks.filter(needsTarget)) {
    const targets = flavour.planTargets(getRunbook(runbook)!, report);
    const plans = targets.map((target) =>
      button({
        text: `Plan ${runbook} ${target}`,
        actionId: ACTION.showPlan,
        value: { topology: report.topology, runbook, target } satisfies PlanButtonValue,
      }),
    );
    // Slack wants an action_id once per actions block: one button per block, as the other Plans.
    for (const plan of plans.slice(0, MAX_TARGETS)) {
      const row = actions([plan]);
      if (row) extra.push(row);
    }
    if (targets.length > MAX_TARGETS)
      extra.push(
        context(
          `… ${inline(`/recover plan ${report.topology} ${runbook} NODE`)} for the other ${targets.length - MAX_TARGETS}`,
        ),
      );
    if (targets.length === 0)
      extra.push(
        context(
          `${inline(runbook)} needs a target: ${inline(`/recover plan ${report.topology} ${runbook} NODE`)}`,
        ),
      );
  }
  const room = MAX_BLOCKS - message.blocks.length;
  return { text: message.text, blocks: [...message.blocks, ...extra.slice(0, Math.max(0, room))] };
}
