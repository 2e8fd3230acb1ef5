import type { KnownBlock } from '@slack/types';
import { getRunbook } from '../../runbook/registry';
import type { StatusReport } from '../../status/inspect';
import { ACTION } from '../constants';
import { actions, button, context, MAX_BLOCKS } from './limits';
import { inline } from './parts';
import { statusMessage } from './status';
import type { PlanButtonValue, SlackMessage } from './types';

/** Buttons per actions block (Slack allows 25; a row of a few reads better). */
const PER_ROW = 4;

/**
 * The status message with its Plan buttons, where a runbook that acts on one node (a slave to
 * rebuild) gets a button per node that needs it — "Plan slave-from-master rls-3" — instead of one
 * button without a target that could never work. No node needs it: the command to type instead.
 */
export function statusWithPlans(report: StatusReport, runbooks: string[]): SlackMessage {
  const needsTarget = (name: string) => (getRunbook(name)?.target ?? 'none') !== 'none';
  const message = statusMessage(
    report,
    runbooks.filter((r) => !needsTarget(r)),
  );
  const extra: KnownBlock[] = [];
  for (const runbook of runbooks.filter(needsTarget)) {
    const targets =
      getRunbook(runbook)?.target === 'slave' ? report.toRestore : report.nodes.map((n) => n.name);
    const plans = targets.map((target) =>
      button({
        text: `Plan ${runbook} ${target}`,
        actionId: ACTION.showPlan,
        value: { topology: report.topology, runbook, target } satisfies PlanButtonValue,
      }),
    );
    for (let i = 0; i < plans.length; i += PER_ROW) {
      const row = actions(plans.slice(i, i + PER_ROW));
      if (row) extra.push(row);
    }
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
