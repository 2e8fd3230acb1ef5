import type { PostgresNodeSettings, PostgresTopologySettings } from './config';
import { lsnDiff, parseLsn, type Lsn } from './lsn';
import type { PostgresNodeStatus, PostgresProposal, PrimaryLsnEvidence, Refusal } from './report';

/** The facts the rules read per node (a subset of the probe's report, so tables stay short). */
export type ProposeFacts = Pick<
  PostgresNodeStatus,
  'name' | 'reachable' | 'error' | 'inRecovery' | 'timeline' | 'position' | 'replayPaused' | 'unreplayedBytes'
> &
  Partial<Pick<PostgresNodeStatus, 'upstream' | 'service'>>;

export type CandidateSettings = Pick<PostgresNodeSettings, 'dataCenter' | 'priority' | 'backupOnly'>;

export interface ProposeInput {
  nodes: ProposeFacts[];
  settings: Pick<PostgresTopologySettings, 'preferDataCenters' | 'maxLagBytes'>;
  /** Per node name; a node without settings ranks with the schema's defaults. */
  nodeSettings: Record<string, CandidateSettings | undefined>;
  /** The topology's configured primary: the old primary when the standbys' upstream says nothing. */
  configuredPrimary: string | null;
  /** Last known primary LSN (a live primary, the archive, or an earlier probe). */
  primaryLsn: PrimaryLsnEvidence | null;
  /** An allow-data-loss gate approved by a second person: lifts liftable refusals, admits backup-only nodes. */
  allowDataLoss?: boolean;
}

const DEFAULTS: CandidateSettings = { dataCenter: 'default', priority: 100, backupOnly: false };

interface Ranked {
  facts: ProposeFacts;
  cfg: CandidateSettings;
  position: Lsn;
  timeline: number;
}

const isKnown = (n: ProposeFacts) => n.reachable && n.error === null && n.inRecovery !== null;
const isPrimary = (n: ProposeFacts) => isKnown(n) && n.inRecovery === false;

/** The refusals that still block: all of them, or only the unliftable ones once the gate is approved. */
export function blockingRefusals(p: PostgresProposal): Refusal[] {
  return p.refusals.filter((r) => !r.liftable || !p.allowDataLoss.approved);
}

/**
 * Failover rules (SYSTEMS.md §2.3), pure: candidate = reachable standby on the highest timeline
 * with the greatest position; ties by preferred data center, then priority, then less unreplayed
 * WAL. Every node gets a verdict; anything that could lose committed data is a refusal.
 */
export function proposeFailover(input: ProposeInput): PostgresProposal {
  const cfg = (name: string) => ({ ...DEFAULTS, ...input.nodeSettings[name] });
  const dcRank = (dc: string) => {
    const i = input.settings.preferDataCenters.indexOf(dc);
    return i < 0 ? input.settings.preferDataCenters.length : i;
  };
  const primaries = input.nodes.filter(isPrimary);
  const formerPrimary = findFormerPrimary(input, primaries);
  const verdicts: Record<string, string> = {};
  const refusals: Refusal[] = [];
  const refuse = (code: string, liftable: boolean, message: string) =>
    refusals.push({ code, liftable, message });

  // Standbys whose facts are complete enough to rank.
  const ranked: Ranked[] = [];
  const unknown: ProposeFacts[] = [];
  for (const n of input.nodes) {
    const position = parseLsn(n.position);
    if (isPrimary(n)) continue;
    if (!isKnown(n) || position === null || n.timeline === null) unknown.push(n);
    else ranked.push({ facts: n, cfg: cfg(n.name), position, timeline: n.timeline });
  }
  const compare = (a: Ranked, b: Ranked) =>
    b.timeline - a.timeline ||
    (b.position > a.position ? 1 : b.position < a.position ? -1 : 0) ||
    tieBreak(a, b);
  const tieBreak = (a: Ranked, b: Ranked) =>
    dcRank(a.cfg.dataCenter) - dcRank(b.cfg.dataCenter) ||
    b.cfg.priority - a.cfg.priority ||
    (a.facts.unreplayedBytes ?? Infinity) - (b.facts.unreplayedBytes ?? Infinity) ||
    a.facts.name.localeCompare(b.facts.name);
  ranked.sort(compare);
  const eligible = (r: Ranked, backups: boolean) => r.cfg.priority > 0 && (backups || !r.cfg.backupOnly);
  let best = ranked.find((r) => eligible(r, false));
  if (!best && input.allowDataLoss) best = ranked.find((r) => eligible(r, true));

  // Loss: what the old primary had that the candidate has not (same timeline only).
  // A primary that answers now beats any remembered or archived evidence.
  const live = primaries.find((p) => p.name === formerPrimary && p.position !== null);
  const evidence: PrimaryLsnEvidence | null = live
    ? { lsn: live.position as string, timeline: live.timeline, source: 'probe' }
    : input.primaryLsn;
  const primaryLsn = parseLsn(evidence?.lsn);
  const sameTimeline =
    best !== undefined && (evidence?.timeline == null || evidence.timeline === best.timeline);
  const loss =
    best && sameTimeline && primaryLsn !== null ? Math.max(0, lsnDiff(primaryLsn, best.position) ?? 0) : null;
  const ahead = best
    ? ranked
        .filter((r) => r !== best && (r.timeline > best.timeline || r.position > best.position))
        .map((r) => ({ node: r.facts.name, bytes: Math.max(0, lsnDiff(r.position, best.position) ?? 0) }))
    : [];

  if (primaries.length > 1)
    refuse(
      'two-primaries',
      false,
      `${primaries.map((p) => p.name).join(' and ')} all answer as primary: split brain, fence one first`,
    );
  else if (primaries.length === 1)
    refuse(
      'primary-alive',
      true,
      `${primaries[0]?.name} still answers as primary: promoting a standby would make two`,
    );
  const unknownStandbys = unknown.filter((n) => n.name !== formerPrimary);
  if (unknownStandbys.length > 0)
    refuse(
      'standby-unknown',
      true,
      `${unknownStandbys.map((n) => n.name).join(', ')} unknown: may be ahead of any candidate`,
    );
  if (!best) {
    const backups = ranked.filter((r) => eligible(r, true));
    if (backups.length > 0)
      refuse(
        'no-candidate',
        true,
        `only backup-only nodes could be promoted (${backups.map((r) => r.facts.name).join(', ')})`,
      );
    else refuse('no-candidate', false, 'no reachable standby can be promoted');
  } else {
    const unreplayed = best.facts.unreplayedBytes;
    if (best.facts.replayPaused === true && (unreplayed === null || unreplayed > 0))
      refuse(
        'replay-paused-unreplayed',
        true,
        `${best.facts.name} has replay paused with ${unreplayed ?? 'unknown'} bytes not replayed`,
      );
    if (ahead.length > 0)
      refuse(
        'standby-ahead',
        true,
        `${ahead.map((a) => `${a.node} (+${a.bytes} bytes)`).join(', ')} past ${best.facts.name}: promoting it forces a rewind that drops that WAL`,
      );
    if (primaries.length === 0 && loss === null)
      refuse(
        'loss-unknown',
        true,
        `no known primary LSN to compare ${best.facts.name} with: loss cannot be estimated`,
      );
    if (loss !== null && loss > input.settings.maxLagBytes)
      refuse(
        'loss-over-threshold',
        true,
        `${best.facts.name} is ${loss} bytes behind the last known primary LSN (limit ${input.settings.maxLagBytes})`,
      );
  }

  for (const n of input.nodes) verdicts[n.name] = verdict(n);
  function verdict(n: ProposeFacts): string {
    const at = `timeline ${n.timeline ?? '?'} at ${n.position ?? '?'}`;
    if (isPrimary(n))
      return primaries.length > 1
        ? `primary (${at}): one of ${primaries.length} primaries`
        : `primary (${at})`;
    const r = ranked.find((x) => x.facts === n);
    if (!r) {
      const why = n.error ?? (n.reachable ? 'state unreadable' : 'unreachable');
      if (n.name === formerPrimary)
        return `old primary: unknown (${why})${n.service ? `, service ${n.service}` : ''}`;
      return `unknown (${why}): may be ahead`;
    }
    if (r === best) {
      const paused = n.replayPaused ? `, replay paused (${n.unreplayedBytes ?? '?'} bytes unreplayed)` : '';
      const gate = r.cfg.backupOnly ? ' (backup-only: allow-data-loss approved)' : '';
      return `chosen: ${at}${paused}${gate}`;
    }
    const label = r.cfg.backupOnly
      ? 'backup-only, never a candidate without allow-data-loss: '
      : r.cfg.priority === 0
        ? 'priority 0, never promoted: '
        : '';
    return label + relation(r);
  }
  function relation(r: Ranked): string {
    if (!best) return `not chosen (timeline ${r.timeline} at ${r.facts.position})`;
    if (r.timeline < best.timeline)
      return `on timeline ${r.timeline}, behind the candidate's ${best.timeline}`;
    const diff = lsnDiff(r.position, best.position) ?? 0;
    if (r.timeline > best.timeline)
      return `on timeline ${r.timeline}, past the candidate's ${best.timeline}: would be rewound`;
    if (diff > 0) return `ahead of the candidate by ${diff} bytes: would be rewound, losing them`;
    if (diff < 0) return `behind the candidate by ${-diff} bytes`;
    return `same position as the candidate; lost the tie on ${tieReason(best, r)}`;
  }
  function tieReason(a: Ranked, b: Ranked): string {
    if (dcRank(a.cfg.dataCenter) !== dcRank(b.cfg.dataCenter)) return 'data center preference';
    if (a.cfg.priority !== b.cfg.priority) return 'priority';
    if (a.facts.unreplayedBytes !== b.facts.unreplayedBytes) return 'replay lag';
    return 'name';
  }

  const liftableStands = refusals.some((r) => r.liftable);
  const riskUnknown = unknownStandbys.length > 0 || loss === null;
  const maxAhead = Math.max(0, ...ahead.map((a) => a.bytes));
  return {
    candidate: best?.facts.name ?? null,
    verdicts,
    refusals,
    lossBytesEstimate: loss,
    primaryLsn: evidence,
    formerPrimary,
    fenced: fenced(input.nodes.find((n) => n.name === formerPrimary)),
    allowDataLoss: {
      required: liftableStands,
      approved: input.allowDataLoss === true,
      bytesAtRisk: riskUnknown ? null : Math.max(loss ?? 0, maxAhead),
    },
    aheadOfCandidate: ahead,
  };
}

/** The one live primary; else the node most standbys stream from; else the configured one. */
function findFormerPrimary(input: ProposeInput, primaries: ProposeFacts[]): string | null {
  if (primaries.length === 1) return primaries[0]?.name ?? null;
  const votes = new Map<string, number>();
  for (const n of input.nodes) if (n.upstream) votes.set(n.upstream, (votes.get(n.upstream) ?? 0) + 1);
  const [top] = [...votes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return top?.[0] ?? input.configuredPrimary;
}

/** Down for sure only when it does not answer as primary and its service says stopped. */
function fenced(old: ProposeFacts | undefined): boolean | null {
  if (!old) return null;
  if (isPrimary(old) || old.service === 'running') return false;
  if (!old.reachable && old.service === 'stopped') return true;
  return null;
}
