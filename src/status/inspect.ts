import type { Topology } from '../config/topology';
import { DbRegistry } from '../db/connect';
import { proposeDedicatedSlave } from '../flavours/coremedia/propose';
import type { Proposal } from '../flavours/coremedia/proposal';
import { probeCoremediaFleet } from '../flavours/coremedia/probe';
import type { FleetReport } from '../flavours/coremedia/report';

export type StatusReport = FleetReport & Proposal & { durationMs: number };

export class UnsupportedFlavourError extends Error {
  readonly code = 'UNSUPPORTED_FLAVOUR';
  constructor(readonly flavour: string) {
    super(`status for flavour "${flavour}" is not supported yet (supported: coremedia)`);
    this.name = 'UnsupportedFlavourError';
  }
}

/** Probe every node of a topology and propose the dedicated slave. Pools stay in `registry`. */
export async function inspectTopology(
  topology: Topology,
  registry: Pick<DbRegistry, 'get'>,
): Promise<StatusReport> {
  if (topology.flavour !== 'coremedia') throw new UnsupportedFlavourError(topology.flavour);
  const started = performance.now();
  const byName = new Map(topology.nodes.map((n) => [n.name, n]));
  const fleet = await probeCoremediaFleet(topology, (name) => registry.get(byName.get(name)!, topology.name));
  const proposal = proposeDedicatedSlave(fleet);
  return { ...fleet, ...proposal, durationMs: Math.round(performance.now() - started) };
}
