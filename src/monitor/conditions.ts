import type { MonitorEvaluation } from '../flavours/types';
import type { MonitorMemory, Observation } from './types';

/** What a flavour says of one condition; the tracker adds when it began, the proposal and the cleared text. */
export type OpenCondition = Omit<Observation, 'proposal' | 'rows' | 'since' | 'cleared'>;

/** Per condition kind: what its resolution says (the flavour's words). */
export type ClearedTexts = Record<string, (node: string | null) => string>;

/**
 * One poll's bookkeeping of a flavour's conditions. A condition is remembered from the poll it was
 * first seen (memory.pendingSince), so a threshold counts from there and survives restarts; one
 * not seen this poll is forgotten, unless the flavour could not read it (`keep`: indeterminate).
 */
export function conditionTracker(memory: MonitorMemory, now: Date, proposal: string, cleared: ClearedTexts) {
  const nowIso = now.toISOString();
  const next: MonitorMemory = { ...memory, pendingSince: {}, lastPollAt: nowIso, polls: memory.polls + 1 };
  const active: Observation[] = [];
  const indeterminate: string[] = [];
  return {
    /** Seen this poll: open once it has lasted `forMs`. */
    open(o: OpenCondition, forMs = 0): void {
      const since = memory.pendingSince[o.key] ?? nowIso;
      next.pendingSince[o.key] = since;
      if (now.getTime() - Date.parse(since) >= forMs)
        active.push({ ...o, since, proposal, rows: [], cleared: cleared[o.kind]?.(o.node) ?? 'cleared' });
    },
    /** Could not be read this poll: neither opened nor resolved, and its first sighting is kept. */
    keep(key: string): void {
      indeterminate.push(key);
      const since = memory.pendingSince[key];
      if (since) next.pendingSince[key] = since;
    },
    result(): MonitorEvaluation {
      return { memory: next, active, indeterminate };
    },
  };
}
