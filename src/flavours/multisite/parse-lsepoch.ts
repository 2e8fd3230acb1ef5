/**
 * `lsepoch` (multiutil / multitool): the epoch number matrix as one replica sees it. Each row
 * starts with a line naming the row's replica; each entry ends `=N (origin)` (ClearCase prints
 * an oid before the `=`). The replica's own row is actual, the others are its estimates.
 */
export type EpochMatrix = Record<string, Record<string, number>>;

export interface LsepochWarning {
  kind: 'fewer-own' | 'more-for-other';
  /** The replica the warning is about ("your replica" in the first, "R" in the second). */
  replica: string;
  /** The sibling compared with. */
  other: string;
}

export interface Lsepoch {
  matrix: EpochMatrix;
  warnings: LsepochWarning[];
}

// `Oplog IDs for row "boston_hub" (@ host):` (`… (actual):` with -actual), or `Row "x":`.
const ROW = /^\s*(?:oplog ids for )?row\s+"?([A-Za-z][A-Za-z0-9_.-]*)"?(?:\s+\([^)]*\))*\s*:?\s*$/i;
// ClearCase prints `oid:<uuid>=N (origin)`; the simulator (sim-defined) `oid:N replica: origin`.
const ENTRY = /=\s*(\d+)\s*\(\s*([A-Za-z][A-Za-z0-9_.-]*)\s*\)\s*$/;
const SIM_ENTRY = /^\s*oid:(\d+)\s+replica:\s*([A-Za-z][A-Za-z0-9_.-]*)\s*$/;
// The two warnings of `lsepoch -actual`, verbatim from the docs (SYSTEMS.md §1.2).
const FEWER_OWN =
  /Your replica \("([^"]+)"\) has fewer oplog entries for itself than "([^"]+)" has for your replica\./;
const MORE_FOR_OTHER =
  /The replica "([^"]+)" has more oplog entries for "([^"]+)" than "([^"]+)" has for itself\./;

export function parseLsepoch(text: string): Lsepoch {
  const matrix: EpochMatrix = {};
  let row: string | null = null;
  for (const line of text.split('\n')) {
    const r = ROW.exec(line);
    if (r) {
      row = r[1]!;
      matrix[row] ??= {};
      continue;
    }
    const e = SIM_ENTRY.exec(line) ?? ENTRY.exec(line);
    if (e && row) matrix[row]![e[2]!] = Number(e[1]);
  }
  const warnings: LsepochWarning[] = [];
  for (const m of text.matchAll(new RegExp(FEWER_OWN, 'g')))
    warnings.push({ kind: 'fewer-own', replica: m[1]!, other: m[2]! });
  for (const m of text.matchAll(new RegExp(MORE_FOR_OTHER, 'g')))
    warnings.push({ kind: 'more-for-other', replica: m[1]!, other: m[2]! });
  return { matrix, warnings };
}

/** E[X][Y], or null when the row or entry is missing (never 0 for "not seen"). */
export function epochOf(matrix: EpochMatrix, row: string, origin: string): number | null {
  return matrix[row]?.[origin] ?? null;
}
