import type { RunRecord } from '../../engine/types';
import { context, lineSections, section } from './limits';
import { inline, userRef, utcTime } from './parts';
import type { SlackMessage } from './types';

/** `/recover runs`: one line per run, its requester a mention (a code table would show raw ids). */
export function runsMessage(runs: RunRecord[], topology: string | null): SlackMessage {
  const title = `Recent runs${topology ? ` of ${topology}` : ''}`;
  if (runs.length === 0) return { text: title, blocks: [section(`*${title}:* none yet`)] };
  const lines = runs.map(
    (r) =>
      `${inline(r.id)} ${inline(r.runbook)}${r.target ? ` → ${inline(r.target)}` : ''} · *${r.state}* · ` +
      `by ${userRef(r.requester)} · ${utcTime(r.createdAt)}`,
  );
  return {
    text: title,
    blocks: [
      section(`*${title}*`),
      ...lineSections(lines, 9000, (n) => `… ${n} more (recover runs in a terminal)`),
      context('`/recover timeline RUN` shares a run’s whole timeline as a file'),
    ],
  };
}
