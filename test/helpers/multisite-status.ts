import { proposeRestoration } from '../../src/flavours/multisite/propose';
import type { MultisiteNodeStatus, MultisiteReport } from '../../src/flavours/multisite/report';

/** A healthy replica of family a–d as the probe reports it, with `over` applied (unit tests). */
export function multisiteStatus(name: string, over: Partial<MultisiteNodeStatus> = {}): MultisiteNodeStatus {
  return {
    name,
    role: 'replica',
    engine: null,
    reachable: true,
    error: null,
    latencyMs: 1,
    replica: name,
    matrix: { [name]: { a: 10, [name]: 10 } },
    ownOps: 10,
    actualWarnings: [],
    packets: [],
    family: ['a', 'b', 'c', 'd'],
    locked: false,
    restoring: false,
    awaiting: [],
    databaseError: null,
    manifest: null,
    ...over,
  };
}

/** The report of topology `fam` over these replicas, with the real rules' proposal. */
export function multisiteReport(nodes: MultisiteNodeStatus[]): MultisiteReport {
  return {
    topology: 'fam',
    flavour: 'multisite',
    probedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 5,
    nodes,
    warnings: [],
    unknown: nodes.filter((n) => !n.reachable).map((n) => n.name),
    proposal: proposeRestoration({ replicas: nodes, target: null }),
  };
}
