import { allFlavours } from '../flavours/registry';
import type { Runbook } from './types';

/** Every built-in runbook by name, from every registered flavour. */
export const RUNBOOKS: Record<string, Runbook> = Object.fromEntries(
  allFlavours().flatMap((f) => f.runbooks.map((r): [string, Runbook] => [r.name, r])),
);

/** The runbook called `name`; undefined for anything else (including "constructor" and friends). */
export function getRunbook(name: string): Runbook | undefined {
  return Object.hasOwn(RUNBOOKS, name) ? RUNBOOKS[name] : undefined;
}

export function runbookNames(): string[] {
  return Object.keys(RUNBOOKS).sort();
}

/** The runbooks that apply to a topology of this flavour (offered under a status message). */
export function runbookNamesFor(flavour: string): string[] {
  return Object.values(RUNBOOKS)
    .filter((r) => r.flavour === flavour)
    .map((r) => r.name);
}
