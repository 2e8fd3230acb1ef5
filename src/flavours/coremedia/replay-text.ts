export interface ReplayReport {
  from: number;
  to: number;
  openEnded: boolean;
  /** Which of seed 000's cases applied, in the planner's words. */
  reasons: string[];
}

/** Seed 000's closing note, made concrete: which publications to replay on the Content Server, and why. */
export function replayFollowUp(r: ReplayReport): string {
  const range =
    r.to >= r.from
      ? `sequence numbers ${r.from}–${r.to}${r.openEnded ? ' and possibly beyond (some nodes could not be read)' : ''}`
      : `publications after sequence ${r.from - 1} (some nodes could not be read)`;
  const why = r.reasons.map((reason) => `• ${reason}`).join('\n');
  return [
    `Publications that may need replaying on the Content Server: ${range}.`,
    'Query the publication events of that period in the CoreMedia Editor and replay them.',
    ...(why ? ['Why (seed 000):', why] : []),
  ].join('\n');
}
