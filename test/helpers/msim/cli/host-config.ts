import { readFileSync } from 'node:fs';

export type MsimDialect = 'clearquest' | 'clearcase';

/** Where a sibling lives, as seen from this host: its sshd, its bay and its binaries. */
export interface SiblingAddress {
  guid: string;
  host: string;
  port: number;
  bay: string;
  binDir: string;
}

/**
 * One simulated host's view of the world, written by the test helper (family.ts) next to the
 * binaries and read by every CLI call. Plain JSON, checked by hand: the CLI bundle stays small.
 */
export interface HostConfig {
  dialect: MsimDialect;
  family: string;
  clan: string;
  /** ClearCase VOB tag, e.g. /vobs/sampl (same family, other dialect). */
  vob: string;
  replica: string;
  guid: string;
  root: string;
  bay: string;
  binDir: string;
  db: { host: string; port: number; database: string; user: string };
  siblings: Record<string, SiblingAddress>;
  ship: { user: string; keyPath: string; knownHostsPath: string };
  /** Sleep before each packet leaves this host: models a WAN hop. */
  transitDelayMs: number;
  faultsFile: string;
}

export function loadHostConfig(path = process.env.MSIM_HOST_CONFIG): HostConfig {
  if (!path) throw new Error('MSIM_HOST_CONFIG is not set: run the CLI through its wrapper in binDir');
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<HostConfig>;
  for (const key of ['dialect', 'family', 'replica', 'bay', 'db', 'siblings', 'ship'] as const)
    if (raw[key] === undefined) throw new Error(`host config ${path} lacks ${key}`);
  return raw as HostConfig;
}
