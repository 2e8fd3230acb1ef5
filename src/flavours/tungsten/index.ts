import type { Topology } from '../../config/topology';
import type { Flavour, TopologyProblem } from '../types';
import { tungstenBasis, tungstenDrift } from './basis';
import { tungstenUnknownOutcome } from './unknown-outcome';
import {
  tungstenArgValues,
  tungstenCheckTarget,
  tungstenEmptySetReason,
  tungstenNodeSet,
  TUNGSTEN_NODE_SETS,
} from './node-sets';
import { inspectTungsten } from './probe';
import type { TungstenReport } from './report';
import { TUNGSTEN_RULES } from './reset-rules';
import { tungstenExternalRestore } from './runbooks/external-restore';
import { tungstenStatusMessage } from './status-blocks';
import { renderTungstenStatusText, tungstenProposalLine } from './status-text';
import { evaluateTungsten } from './monitor';

/** A tungsten section with the service, SSH to every node, MariaDB/MySQL SQL on every node. */
function checkTopology(topology: Topology): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  if (!topology.tungsten)
    problems.push({
      path: ['tungsten'],
      message: 'missing: the replication service (tungsten: { service: alpha })',
    });
  topology.nodes.forEach((n, i) => {
    if (!n.host)
      problems.push({
        path: ['nodes', i, 'host'],
        message: 'missing: the Tungsten CLIs are run on every node over SSH',
      });
    if (!n.db)
      problems.push({
        path: ['nodes', i, 'db'],
        message: 'missing: trep_commit_seqno is read over SQL on every node',
      });
    else if (n.db.engine !== 'mysql')
      problems.push({
        path: ['nodes', i, 'db', 'engine'],
        message: 'must be mysql (MariaDB/MySQL) in a tungsten topology',
      });
  });
  return problems;
}

/** Tungsten Clustering (seed 004): restore a replica from an external backup. */
export const tungsten: Flavour<TungstenReport> = {
  name: 'tungsten',
  title: 'Tungsten Clustering (MySQL/MariaDB)',
  checkTopology,
  inspect: (topology, fleet) => inspectTungsten(topology, fleet),
  runbooks: [tungstenExternalRestore],
  nodeSets: TUNGSTEN_NODE_SETS,
  nodeSet: tungstenNodeSet,
  planTargets: (_runbook, r) => r.proposal.restorable,
  emptySetReason: tungstenEmptySetReason,
  checkTarget: tungstenCheckTarget,
  argValues: tungstenArgValues,
  planBasis: tungstenBasis,
  drift: tungstenDrift,
  unknownOutcome: tungstenUnknownOutcome,
  followUp: (basis) => basis.followUp,
  monitor: evaluateTungsten,
  render: {
    statusText: renderTungstenStatusText,
    statusMessage: tungstenStatusMessage,
    basisLines: (basis) => [basis.summary],
    proposalLine: tungstenProposalLine,
  },
  toJson: (r) => ({
    topology: r.topology,
    flavour: r.flavour,
    service: r.service,
    probedAt: r.probedAt,
    durationMs: r.durationMs,
    cluster: r.cluster,
    nodes: r.nodes,
    proposal: r.proposal,
    warnings: r.warnings,
    unknown: r.unknown,
  }),
  rules: TUNGSTEN_RULES,
};
