import type { FlavourRule, RuleOutcome } from '../types';
import { parseBackupPosition } from './parse/backup-position';
import { compareEventIds, formatPosition, parseEventId, samePosition, thlEventId } from './parse/event-id';
import { parseThlInfo, parseThlList, type ThlHeader } from './parse/thl';
import { parseTrepRead, type TrepRow } from './parse/trep';

/**
 * The run-time decisions of `tungsten-external-restore` (SYSTEMS.md §3.2), pure: they see only
 * what earlier steps captured, as text, and either decide or refuse with a code. Steps 5–7 of the
 * vendor procedure depend on the restored data, so they cannot be decided when the plan is made.
 */

export type ResetDecision = 'reset' | 'no-reset';

const refuse = (code: string, message: string): RuleOutcome => ({ ok: false, code, message });

/** The replicator restarts from the lowest channel's row (SqlCommitSeqno: min over rows). */
function restartRow(rows: TrepRow[]): TrepRow {
  return rows.reduce((a, b) => ((b.seqno ?? Infinity) < (a.seqno ?? Infinity) ? b : a));
}

/**
 * Step 5: the restored trep_commit_seqno against the backup's binlog position. Equal → no reset;
 * trep behind → reset to the backup's position; trep ahead → refuse (schema and data are not one
 * snapshot). A backup of a replica keeps its own trep row (no reset). Decides which event the
 * primary's THL must be asked for: the backup's position, or the trep row's own event.
 */
export function compareRestore(args: Readonly<Record<string, string>>): RuleOutcome {
  const trep = parseTrepRead(args.trep ?? '');
  if (trep.kind === 'error')
    return refuse(
      'no-tungsten-schema',
      `the restored data has no readable trep_commit_seqno (${trep.message}): the backup did not include the tungsten schema, so replication cannot restart at the right point; take a backup that includes it`,
    );
  if (trep.rows.length === 0)
    return refuse('trep-empty', 'trep_commit_seqno is empty after the restore: no restart point to compare');
  const row = restartRow(trep.rows);
  const trepPos = parseEventId(row.eventId);
  if (row.seqno === null || row.seqno < 0 || trepPos === null || row.epoch === null)
    return refuse(
      'trep-unset',
      `trep_commit_seqno holds seqno=${row.seqno ?? 'NULL'} eventid=${row.eventId ?? 'NULL'}: the restored tungsten schema has no position`,
    );
  const base = {
    trepSeqno: String(row.seqno),
    trepEpoch: String(row.epoch),
    trepSource: row.sourceId ?? '',
    trepEvent: thlEventId(trepPos),
  };
  if (args.backupFrom === 'replica')
    return {
      ok: true,
      values: { ...base, decision: 'no-reset', lookupEvent: thlEventId(trepPos) },
      note: `backup of a replica: its trep row (seqno ${row.seqno}, ${formatPosition(trepPos)}) is the restart point; no reset`,
    };
  const backup = parseBackupPosition(args.backup ?? '');
  if (!backup)
    return refuse(
      'backup-position-unknown',
      'the backup position could not be read (no CHANGE MASTER TO header, no xtrabackup_binlog_info line)',
    );
  const order = compareEventIds(trepPos, backup);
  const both = `trep ${formatPosition(trepPos)} (seqno ${row.seqno}), backup ${formatPosition(backup)}`;
  if (order === null)
    return refuse('positions-incomparable', `${both}: different binlogs, the backup is not of this primary`);
  if (order > 0)
    return refuse(
      'trep-ahead',
      `${both}: trep_commit_seqno is past the backup's position, so the tungsten schema and the data are not from one snapshot`,
    );
  if (order === 0)
    return {
      ok: true,
      values: { ...base, decision: 'no-reset', lookupEvent: thlEventId(trepPos) },
      note: `${both}: equal, no reset`,
    };
  return {
    ok: true,
    values: { ...base, decision: 'reset', lookupEvent: thlEventId(backup) },
    note: `${both}: trep is behind, reset to the backup's position`,
  };
}

/** The header of the whole event: its last fragment (a fragmented transaction shares one seqno). */
function eventHeader(headers: ThlHeader[]): ThlHeader | null {
  const seqnos = new Set(headers.map((h) => h.seqno));
  if (seqnos.size !== 1) return null;
  return headers.find((h) => h.lastFrag) ?? headers.at(-1) ?? null;
}

/**
 * Steps 6–7: the reset values, only from the primary's THL header for exactly that event (seqno,
 * EPOCH#, EVENTID, SOURCEID; never a default epoch). Refused on: an approximate match, a source id
 * other than the primary's, a seqno not above the restored one (the vendor's own example), a
 * THL that no longer holds seqno+1. Without a reset, the restored row must match that header.
 */
export function resetValues(args: Readonly<Record<string, string>>): RuleOutcome {
  const decision = args.decision as ResetDecision;
  const lookup = parseEventId(args.lookupEvent);
  if ((decision !== 'reset' && decision !== 'no-reset') || !lookup)
    return refuse(
      'bad-input',
      `no decision or event to look up (decision=${args.decision}, event=${args.lookupEvent})`,
    );
  const info = parseThlInfo(args.thlInfo ?? '');
  const next = Number(args.trepSeqno) + 1;
  const found = parseThlList(args.header ?? '');
  // A purged event is "not found" too, and the remedy differs (re-provision): say which it is.
  if (found.kind !== 'exact' && info && info.minSeqno !== null && info.minSeqno > next)
    return refuse('thl-purged', purgedText(info.minSeqno, next));
  if (found.kind === 'approximate')
    return refuse(
      'approximate-event',
      `the primary's THL has no event at exactly ${formatPosition(lookup)} (${found.text}); an approximate seqno would skip or repeat transactions`,
    );
  if (found.kind === 'not-found')
    return refuse(
      'event-not-found',
      `the primary's THL has no event at ${formatPosition(lookup)}: ${found.text || 'no output'}`,
    );
  const h = eventHeader(found.headers);
  if (!h)
    return refuse('event-ambiguous', `the THL lookup returned several events for ${formatPosition(lookup)}`);
  if (!h.position || !samePosition(h.position, lookup))
    return refuse(
      'approximate-event',
      `the THL event found (seqno ${h.seqno}, ${h.eventId}) is not at exactly ${formatPosition(lookup)}`,
    );
  const trepSeqno = Number(args.trepSeqno);
  const problems: [string, string][] = [];
  if (h.sourceId !== args.primarySourceId)
    problems.push([
      'wrong-source',
      `the event's SOURCEID ${h.sourceId} is not the primary's source id ${args.primarySourceId}`,
    ]);
  if (decision === 'reset' && !(h.seqno > trepSeqno))
    problems.push([
      'seqno-not-above',
      `the new seqno ${h.seqno} is not above the restored seqno ${trepSeqno}: resetting would replay or skip transactions`,
    ]);
  if (decision === 'no-reset') {
    if (h.seqno !== trepSeqno)
      problems.push([
        'seqno-mismatch',
        `the THL says seqno ${h.seqno} for the restored event, trep_commit_seqno says ${trepSeqno}`,
      ]);
    if (String(h.epoch) !== args.trepEpoch)
      problems.push([
        'epoch-mismatch',
        `the restored epoch ${args.trepEpoch} is not the THL's EPOCH# ${h.epoch} for seqno ${h.seqno}: the replica's handshake would fail ("Log epoch numbers do not match")`,
      ]);
  }
  if (!info || info.minSeqno === null)
    problems.push(['thl-unknown', "the primary's THL range could not be read (thl info)"]);
  else if (info.minSeqno > h.seqno + 1) problems.push(['thl-purged', purgedText(info.minSeqno, h.seqno + 1)]);
  if (problems.length > 0)
    return refuse(problems.map(([c]) => c).join(','), problems.map(([, m]) => m).join('; '));
  const values = {
    decision,
    seqno: String(h.seqno),
    epoch: String(h.epoch),
    eventId: thlEventId(h.position),
    sourceId: h.sourceId,
  };
  return {
    ok: true,
    values,
    note:
      decision === 'reset'
        ? `reset to seqno=${values.seqno} epoch=${values.epoch} eventid=${values.eventId} source_id=${values.sourceId} (the primary's THL header)`
        : `no reset: the restored row matches the primary's THL (seqno ${values.seqno}, epoch ${values.epoch})`,
  };
}

const purgedText = (min: number, next: number): string =>
  `the primary's THL starts at seqno ${min}, past ${next} which this replica needs next ("Master log does not contain requested transaction"): re-provision it from a newer backup`;

export const TUNGSTEN_RULES: Readonly<Record<string, FlavourRule>> = {
  'tungsten-compare-restore': compareRestore,
  'tungsten-reset-values': resetValues,
};
