import type { ActionsBlock, KnownBlock } from '@slack/types';
import { ACTION } from '../constants';
import { actions, button, context, escapeMrkdwn, truncateText } from './limits';
import { inline, plural } from './parts';
import type { PlanButtonValue } from './types';

/** Plan buttons each need their own actions block (one action_id per block), so keep them few. */
const MAX_PLAN_BUTTONS = 8;

/** Refresh and one Plan button per runbook of the flavour, under any flavour's status message. */
export function statusButtons(topology: string, runbooks: string[]): (KnownBlock | null)[] {
  const plan = (runbook: string) =>
    button({
      text: `Plan ${runbook}`,
      actionId: ACTION.showPlan,
      value: { topology, runbook, target: null } satisfies PlanButtonValue,
    });
  const shown = runbooks.slice(0, MAX_PLAN_BUTTONS);
  const first = shown[0];
  const rows: (ActionsBlock | null)[] = [
    actions([
      button({ text: 'Refresh', actionId: ACTION.refreshStatus, value: { topology } }),
      first === undefined ? null : plan(first),
    ]),
    ...shown.slice(1).map((r) => actions([plan(r)])),
  ];
  const more = runbooks.length - shown.length;
  const note =
    more > 0
      ? context(
          `… ${plural(more, 'more runbook')}: ${inline(`/recover plan ${topology} RUNBOOK`)} (${escapeMrkdwn(truncateText(runbooks.slice(shown.length).join(', '), 500, '…'))})`,
        )
      : null;
  return [...rows, note];
}
