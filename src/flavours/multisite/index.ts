import { evaluateMultisite } from './monitor';
import type { Topology } from '../../config/topology';
import type { Flavour, TopologyProblem } from '../types';
import { msBasis, msDrift } from './basis';
import { msUnknownOutcome } from './unknown-outcome';
import { inspectMultisite } from './probe';
import {
  MULTISITE_NODE_SETS,
  multisiteArgValues,
  multisiteCheckTarget,
  multisiteEmptySetReason,
  multisiteNodeSet,
} from './node-sets';
import type { MultisiteReport } from './report';
import { multisiteRestore } from './runbooks/restore';
import { msStatusMessage } from './status-blocks';
import { msProposalLine, renderMsStatusText } from './status-text';

/** A multisite section on the topology, and every node a replica host reached over SSH. */
function checkTopology(topology: Topology): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  if (!topology.multisite)
    problems.push({
      path: ['multisite'],
      message: 'missing: dialect and family (or vobTag) (see docs/multisite.md)',
    });
  topology.nodes.forEach((n, i) => {
    if (!n.multisite)
      problems.push({
        path: ['nodes', i, 'multisite'],
        message: 'missing: binDir and bay of this replica host',
      });
    if (!n.host)
      problems.push({
        path: ['nodes', i, 'host'],
        message: 'missing: every replica is reached over its host',
      });
  });
  return problems;
}

/** MultiSite (ClearQuest/ClearCase) replica families (seed 002): restore a replica from backup. */
export const multisite: Flavour<MultisiteReport> = {
  name: 'multisite',
  title: 'MultiSite replica family',
  checkTopology,
  inspect: (topology, fleet) => inspectMultisite(topology, fleet),
  runbooks: [multisiteRestore],
  nodeSets: MULTISITE_NODE_SETS,
  planTargets: (_runbook, r) => (r.proposal.restore ? [r.proposal.restore] : []),
  nodeSet: multisiteNodeSet,
  emptySetReason: multisiteEmptySetReason,
  checkTarget: multisiteCheckTarget,
  argValues: multisiteArgValues,
  planBasis: msBasis,
  drift: msDrift,
  unknownOutcome: msUnknownOutcome,
  followUp: (basis) => basis.followUp,
  monitor: evaluateMultisite,
  render: {
    statusText: renderMsStatusText,
    statusMessage: msStatusMessage,
    basisLines: (basis) => [basis.summary],
    proposalLine: msProposalLine,
  },
  toJson: (r) => ({
    topology: r.topology,
    flavour: r.flavour,
    probedAt: r.probedAt,
    durationMs: r.durationMs,
    facts: {
      replicas: r.nodes.map((n) => ({
        node: n.name,
        replica: n.replica,
        role: n.role,
        reachable: n.reachable,
        error: n.error,
        databaseError: n.databaseError,
        ownOps: n.ownOps,
        locked: n.locked,
        restoring: n.restoring,
        awaiting: n.awaiting,
        family: n.family,
        actualWarnings: n.actualWarnings,
        manifest: n.manifest,
      })),
      matrix: Object.fromEntries(r.nodes.map((n) => [n.name, n.matrix])),
      pendingPackets: Object.fromEntries(
        r.nodes.map((n) => [
          n.name,
          n.packets?.map((p) => ({ path: p.path, from: p.from, recipients: p.recipients, bay: p.bay })) ??
            null,
        ]),
      ),
    },
    proposal: r.proposal,
    warnings: r.warnings,
    unknown: r.unknown,
  }),
};
