/**
 * `dsctl set` success line:
 *   Service "alpha" datasource "global" position was set to: seqno=7748 epoch_number=0 eventid=… source_id=…
 */
export interface DsctlPosition {
  service: string;
  seqno: number;
  epoch: number;
  eventId: string;
  sourceId: string;
}

export function parseDsctlSet(text: string): DsctlPosition | null {
  const m =
    /Service "([^"]+)" datasource "[^"]*" position was set to:\s*seqno=(\d+)\s+epoch_number=(\d+)\s+eventid=(\S+)\s+source_id=(\S+)/.exec(
      text,
    );
  if (!m) return null;
  return { service: m[1]!, seqno: Number(m[2]), epoch: Number(m[3]), eventId: m[4]!, sourceId: m[5]! };
}

/**
 * What the installed CLIs can do, from their `help` output: `thl list -event` (≥ 7.0.2; the 5.x
 * open-source thl has none), `dsctl set -reset` (5.x: "Unrecognized option: -reset"). Detected,
 * never assumed from a version number (the 6.1 docs already use -event).
 */
export interface CliAbilities {
  thlListEvent: boolean | null;
  dsctlReset: boolean | null;
}

export function parseCliHelp(thlHelp: string | null, dsctlHelp: string | null): CliAbilities {
  return {
    thlListEvent: thlHelp === null ? null : /-event\b/.test(thlHelp),
    dsctlReset: dsctlHelp === null ? null : /-reset\b/.test(dsctlHelp),
  };
}
