import { progressText } from '../engine/progress';
import type { AuditEvent, EngineEvent } from '../engine/types';

const icons: Partial<Record<AuditEvent['kind'], string>> = {
  plan: '📋',
  start: '▶',
  refused: '⛔',
  'step-start': '•',
  'step-result': '✓',
  'step-waiting': '…',
  'awaiting-approval': '⏸',
  approval: '👍',
  'approval-refused': '⛔',
  'approval-void': '♻',
  rejection: '👎',
  halt: '⚠',
  decision: '➜',
  abort: '■',
  finish: '■',
};

/** One line per audit event, for `recover run` following a run and for the worker's log. */
export function renderAuditLine(e: AuditEvent): string {
  const icon = e.kind === 'step-result' && e.detail.ok === false ? '✗' : (icons[e.kind] ?? '-');
  const time = e.at.slice(11, 19);
  const who = e.actor ? ` [${e.actor}]` : '';
  return `${time} ${icon}${who} ${e.summary}`;
}

/** What the worker prints as things happen (the terminal notifier). */
export function renderEngineEvent(e: EngineEvent): string | null {
  switch (e.type) {
    case 'run-started':
      return `▶ run ${e.run.id}: ${e.run.runbook} on ${e.run.topology}${e.run.target ? ` (target ${e.run.target})` : ''}, plan ${e.plan.hash.slice(0, 12)}, ${e.plan.steps.length} steps, requested by ${e.run.requester}`;
    case 'step-started':
      return `  • ${e.stepId} …`;
    case 'step-progress':
      return `  … ${e.stepId}: ${progressText(e.progress)}`;
    case 'step-result': {
      const r = e.result;
      const bits = [r.ok ? 'ok' : `FAILED: ${r.error ?? ''}`];
      if (r.affectedRows !== null) bits.push(`${r.affectedRows} rows affected`);
      if (r.rowCount) bits.push(`${r.rowCount} rows`);
      const captured = Object.entries(r.captured).map(([k, v]) => `${k}=${v}`);
      if (captured.length) bits.push(`captured ${captured.join(' ')}`);
      bits.push(`${Math.round(r.durationMs)} ms`);
      return `  ${r.ok ? '✓' : '✗'} ${e.stepId}: ${bits.join(', ')}`;
    }
    case 'step-waiting':
      return `  … ${e.stepId}: not yet (${e.result.note ? `${e.result.note}; ` : ''}${e.result.error ?? 'condition not met'})`;
    case 'awaiting-approval':
      return `⏸ ${e.run.id} waits for a second person to approve "${e.gate}" (${e.stepIds.join(', ')}): recover approve ${e.run.id} ${e.gate} --as <approver>`;
    case 'approval-decided':
      return `${e.decision === 'approved' ? '👍' : e.decision === 'rejected' ? '👎' : '♻'} ${e.gate}: ${e.decision} by ${e.by}${e.reason ? ` (${e.reason})` : ''}`;
    case 'run-halted':
      return `⚠ ${e.run.id} halted: ${e.reason}.${(e.unknownSteps ?? [e.stepId]).map((id) => `\n  recover decide ${e.run.id} ${id} retry|mark-done|abort --as <you>`).join('')}`;
    case 'run-finished':
      return `■ ${e.run.id} ${e.run.state}${e.run.reason ? `: ${e.run.reason}` : ''}${e.followUp ? `\n${e.followUp}` : ''}`;
  }
}
