import type { KnownBlock } from '@slack/types';
import { alignedTable } from '../../render/table';
import type { AlertRecord } from '../../monitor/alert-store';
import { ACTION } from '../constants';
import { actions, button, codeBlock, composeMessage, context, escapeMrkdwn, header, section } from './limits';
import { inline, plural, userRef, utcTime } from './parts';
import type { SlackMessage } from './types';

/** What an alert message shows: the stored record (its detail is the latest observation). */
export type AlertView = Pick<
  AlertRecord,
  | 'topology'
  | 'key'
  | 'state'
  | 'since'
  | 'lastSeen'
  | 'ackedBy'
  | 'ackedAt'
  | 'resolvedAt'
  | 'flaps'
  | 'detail'
>;

/** Values the alert buttons carry; re-validated when clicked (commands/buttons.ts). */
export interface AlertButtonValue {
  topology: string;
  key: string;
}

const ROW_CELL = 40;

/** The one message of an open (or resolved) condition, updated in place while it lasts. */
export function alertMessage(a: AlertView): SlackMessage {
  const d = a.detail;
  const resolved = a.state === 'resolved';
  const icon = resolved ? '✅' : '🚨';
  const where = [inline(a.topology), ...(d.node ? [inline(d.node)] : [])].join(' · ');
  const body: KnownBlock[] = [
    header(`${icon} ${resolved ? 'Resolved: ' : ''}${d.summary}`),
    context(
      `${where} · since ${escapeMrkdwn(stamp(a.since))} · last seen ${escapeMrkdwn(stamp(a.lastSeen))}` +
        (a.flaps > 0 ? ` · came back ${plural(a.flaps, 'time')}` : ''),
    ),
    section(d.facts.map(escapeMrkdwn).join('\n') || '—'),
  ];
  if (d.rows.length > 0)
    body.push(section(`*Rows found in ReplicatorIdTable* (up to 5)\n${codeBlock(rowsTable(d.rows), 2600)}`));
  body.push(section(`*Current proposal:* ${escapeMrkdwn(d.proposal)}`));
  if (a.ackedBy)
    body.push(
      context(`Acknowledged by ${userRef(a.ackedBy)} at ${utcTime(a.ackedAt ?? '')}: updates are silenced`),
    );
  if (resolved && a.resolvedAt) body.push(section(`✅ *Resolved* at ${escapeMrkdwn(stamp(a.resolvedAt))}`));
  const fallback = `${resolved ? 'Resolved: ' : ''}${d.summary} (${a.topology})`;
  return composeMessage(escapeMrkdwn(fallback), body, (n) => `${plural(n, 'more part')} not shown`, [
    alertButtons(a),
  ]);
}

/** The thread reply when the condition clears. */
export function alertResolvedReply(a: AlertView): SlackMessage {
  const open = Date.parse(a.resolvedAt ?? '') - Date.parse(a.since);
  const lasted = Number.isFinite(open) ? ` after ${duration(open)}` : '';
  const text = `✅ Resolved${lasted}: ${a.detail.cleared} (at ${stamp(a.resolvedAt ?? a.lastSeen)})`;
  return { text: escapeMrkdwn(text), blocks: [section(escapeMrkdwn(text))] };
}

/** The thread reply when a condition comes back within the flap window (the same message is updated). */
export function alertReturnedReply(a: AlertView): SlackMessage {
  const text = `🔁 Back again at ${stamp(a.lastSeen)}: ${a.detail.summary}`;
  return { text: escapeMrkdwn(text), blocks: [section(escapeMrkdwn(text))] };
}

function alertButtons(a: AlertView): KnownBlock | null {
  const rb = a.detail.runbook;
  return actions([
    button({ text: 'Inspect', actionId: ACTION.alertInspect, value: { topology: a.topology } }),
    rb
      ? button({
          text: `Plan ${rb.name}${rb.target ? ` ${rb.target}` : ''}`,
          actionId: ACTION.alertPlan,
          value: { topology: a.topology, runbook: rb.name, target: rb.target },
        })
      : null,
    a.state === 'open' && !a.ackedBy
      ? button({
          text: 'Acknowledge',
          actionId: ACTION.alertAck,
          value: { topology: a.topology, key: a.key } satisfies AlertButtonValue,
        })
      : null,
  ]);
}

function rowsTable(rows: Record<string, unknown>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return s.length > ROW_CELL ? `${s.slice(0, ROW_CELL - 1)}…` : s;
  };
  return alignedTable(
    columns.map((c) => c.toUpperCase()),
    rows.map((r) => columns.map((c) => cell(r[c]))),
  );
}

/** "2026-11-21 09:45:14 UTC" */
function stamp(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}
