import type { Connection } from 'mysql2/promise';
import type { Replicator } from './replicator';
import type { ThlLog } from './thl-log';

export type ThlVersion = '5' | '7';

/** What the per-host CLI handlers (trepctl, thl, dsctl) see of their host. */
export interface HostRuntime {
  name: string;
  service: string;
  sourceId: string;
  home: string;
  thl: ThlLog;
  replicator: Replicator;
  dbPort: number;
  thlVersion: ThlVersion;
  /** A fresh connection to this host's MariaDB (the caller ends it). */
  connect(): Promise<Connection>;
  /** Host to which `masterConnectUri` points. */
  primaryName(): string;
  faults: {
    /** `dsctl set -reset` drops the table, then the process "dies" (exit 137, no output). */
    crashAfterReset: boolean;
  };
}

/** The product version a tsim host reports (trepctl status `version`, cctrl banner). */
export function productVersion(v: ThlVersion): string {
  return v === '7' ? 'Tungsten Clustering 7.1.4 build 10' : 'Tungsten Replicator 5.4.1 build 22';
}
