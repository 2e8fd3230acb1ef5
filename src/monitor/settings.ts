import { createHash } from 'node:crypto';
import type { MonitorThresholds, RecoverConfig, Topology } from '../config/topology';
import { FLAVOURS } from '../flavours/registry';

/** What the monitor needs of one topology, defaults applied. */
export interface MonitorPlan {
  topology: string;
  intervalMs: number;
  /** Stable phase of this topology's polls within the interval (spreads load across topologies). */
  offsetMs: number;
  channel: string;
  refreshMs: number;
  thresholds: MonitorThresholds;
}

/**
 * A topology is watched unless its monitor is disabled, when it has a place to post (its
 * alertChannel, else the first of access.channels) and a flavour the probe knows.
 */
export function monitorPlan(topology: Topology): MonitorPlan | null {
  const m = topology.monitor;
  if (!m.enabled || !watched(topology)) return null;
  const channel = m.alertChannel ?? topology.access.channels?.[0];
  if (!channel) return null;
  // Default jitter: a third of the interval, at most 10 s.
  const jitter = Math.min(m.jitterMs ?? Math.min(Math.floor(m.intervalMs / 3), 10_000), m.intervalMs - 1);
  return {
    topology: topology.name,
    intervalMs: m.intervalMs,
    offsetMs: jitter > 0 ? stableHash(topology.name) % jitter : 0,
    channel,
    refreshMs: m.refreshMs,
    thresholds: m.thresholds,
  };
}

export function monitorPlans(config: RecoverConfig): MonitorPlan[] {
  return config.topologies.map(monitorPlan).filter((p): p is MonitorPlan => p !== null);
}

/** Why a topology is not watched though its monitor is enabled; said once at start. */
export function monitorWarnings(config: RecoverConfig): string[] {
  return config.topologies
    .filter((t) => t.monitor.enabled && !monitorPlan(t))
    .map((t) =>
      !watched(t)
        ? `monitor: ${t.name} is not watched: flavour ${t.flavour} has no monitor conditions yet`
        : `monitor: ${t.name} is not watched: no channel for its alerts (set monitor.alertChannel or access.channels; monitor.enabled: false silences this)`,
    );
}

/** The flavour has monitor conditions. */
const watched = (t: Topology): boolean => !!FLAVOURS[t.flavour]?.monitor;

function stableHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}
