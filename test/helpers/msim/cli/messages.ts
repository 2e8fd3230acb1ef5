/**
 * Output texts. Those marked `verbatim` are the documented texts (SYSTEMS.md 1.2 / 1.6, seed 002);
 * everything else is sim-defined: stable, one fact per line, easy to parse.
 */
import type { HostConfig } from './host-config';

export function toolName(config: HostConfig): string {
  return config.dialect === 'clearquest' ? 'multiutil' : 'multitool';
}

/** verbatim (seed 002, step 6). CQ `<name>` is the family (the replicated user database's name). */
export const unlockedAfterRestoration = (name: string) => `Database ${name} is unlocked after restoration.`;

/** verbatim (lsepoch -actual doc): one sentence per line (the doc wraps them). */
export const fewerOwnEntries = (self: string, sibling: string) =>
  `Your replica ("${self}") has fewer oplog entries for itself than "${sibling}" has for your replica.\n` +
  'To avoid permanent data loss, your VOB administrator must initiate the documented replica restoration procedure.';

/** verbatim (lsepoch -actual doc), the mirror warning (the doc's text goes on; the excerpt stops here). */
export const moreEntriesThanSibling = (self: string, sibling: string) =>
  `The replica "${self}" has more oplog entries for "${sibling}" than "${sibling}" has for itself.`;

/** verbatim lines of syncreplica -export -fship (manual synchronization example). */
export const generating = (path: string) => `Generating synchronization packet ${path}`;
export const shippingOrder = (path: string) => `- shipping order file is ${path}`;
export const attempting = 'Attempting to forward/deliver generated packets...';
export const forwarded = (path: string) => `-- Forwarded/delivered packet ${path}`;
/** sim-defined: the destination could not be reached; the packet stays in the outgoing bay. */
export const notForwarded = (path: string, dest: string, reason: string) =>
  `-- Could not forward/deliver packet ${path} to "${dest}": ${reason}; it remains in the outgoing bay`;

/** sim-defined: ClearCase completion (the ccms_admin text continues with a cleartool unlock). */
export const ccRestorationComplete = (replica: string, vob: string) =>
  `Restoration of replica "${replica}" is complete. Use "cleartool unlock vob:${vob}" to unlock the VOB.`;
