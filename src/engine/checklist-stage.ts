/**
 * A checklist item's probe may say where its target stands in an ordered sequence (e.g. a
 * MultiSite sibling: owes-ack → packet-delivered → imported → sibling-exported → acked) by
 * printing, as its last stdout line, `stage=<name> <words for humans>`. The thread's checklist
 * then shows the stage and its words instead of the probe's exit status.
 */
export interface StageReport {
  stage: string;
  detail: string;
}

const STAGE_LINE = /^stage=([a-z][a-z0-9-]*)(?:\s+(.*))?$/;

/** The last `stage=` line of a probe's stdout, or null when it printed none. */
export function stageOf(stdout: string | null): StageReport | null {
  if (!stdout) return null;
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    const m = STAGE_LINE.exec(line.trim());
    if (m) return { stage: m[1]!, detail: (m[2] ?? '').trim() || m[1]! };
  }
  return null;
}

const OTHER_LINE = /^stage@([a-z0-9][a-z0-9_.-]*)=([a-z][a-z0-9-]*)(?:\s+(.*))?$/;

/**
 * What one item's probe says about *other* items, as lines `stage@<item id>=<name> <words>`: a
 * hub sees what the spokes cannot (a restored MultiSite replica knows which siblings'
 * acknowledgements it imported). The last line per item wins; an item's own probe stays the judge
 * of its state, this only moves its stage further.
 */
export function stagesForOthers(stdout: string | null): Map<string, StageReport> {
  const out = new Map<string, StageReport>();
  for (const line of (stdout ?? '').split('\n')) {
    const m = OTHER_LINE.exec(line.trim());
    if (m) out.set(m[1]!, { stage: m[2]!, detail: (m[3] ?? '').trim() || m[2]! });
  }
  return out;
}

/** `imported (3/5)`: the stage and its place among the declared stages, when it is one of them. */
export function stageLabel(stage: string, stages: readonly string[] | undefined): string {
  const i = stages?.indexOf(stage) ?? -1;
  return i < 0 || !stages ? stage : `${stage} (${i + 1}/${stages.length})`;
}
