import type { Topology } from '../../config/topology';
import type { Flavour, TopologyProblem } from '../types';
import { pgBasis, pgDrift } from './basis';
import { evaluatePostgres } from './monitor';
import {
  POSTGRES_NODE_SETS,
  postgresArgValues,
  postgresCheckTarget,
  postgresEmptySetReason,
  postgresNodeSet,
} from './node-sets';
import { pgPlanTargets } from './plan-targets';
import { inspectPostgres } from './probe';
import type { PostgresReport } from './report';
import { postgresFailover } from './runbooks/failover';
import { postgresNewDatacenter } from './runbooks/new-datacenter';
import { postgresRebuildStandby } from './runbooks/rebuild-standby';
import { postgresSwitchover } from './runbooks/switchover';
import { pgStatusMessage } from './status-blocks';
import { pgProposalLine, renderPgStatusText } from './status-text';

/** Every node is probed over SQL on PostgreSQL and says where its cluster lives. */
function checkTopology(topology: Topology): TopologyProblem[] {
  return topology.nodes.flatMap((n, i): TopologyProblem[] => {
    const problems: TopologyProblem[] = [];
    if (!n.db)
      problems.push({
        path: ['nodes', i, 'db'],
        message: 'missing: every postgres-streaming node is probed over SQL',
      });
    else if (n.db.engine !== 'postgres')
      problems.push({
        path: ['nodes', i, 'db', 'engine'],
        message: 'must be postgres in a postgres-streaming topology',
      });
    if (!n.postgres)
      problems.push({
        path: ['nodes', i, 'postgres'],
        message: 'missing: dataDir and conninfo of this node (see docs/postgres-streaming.md)',
      });
    return problems;
  });
}

/** PostgreSQL streaming replication (seed 003): failover, rebuild a standby, switchover, new data center. */
export const postgresStreaming: Flavour<PostgresReport> = {
  name: 'postgres-streaming',
  title: 'PostgreSQL streaming replication',
  checkTopology,
  inspect: (topology, fleet) => inspectPostgres(topology, fleet),
  runbooks: [postgresFailover, postgresRebuildStandby, postgresSwitchover, postgresNewDatacenter],
  nodeSets: POSTGRES_NODE_SETS,
  planTargets: pgPlanTargets,
  nodeSet: postgresNodeSet,
  emptySetReason: postgresEmptySetReason,
  checkTarget: postgresCheckTarget,
  argValues: postgresArgValues,
  planBasis: pgBasis,
  drift: pgDrift,
  followUp: (basis) => basis.followUp,
  monitor: evaluatePostgres,
  render: {
    statusText: renderPgStatusText,
    statusMessage: pgStatusMessage,
    basisLines: (basis) => [basis.summary],
    proposalLine: pgProposalLine,
  },
  toJson: (r) => ({
    topology: r.topology,
    flavour: r.flavour,
    probedAt: r.probedAt,
    durationMs: r.durationMs,
    nodes: r.nodes,
    proposal: r.proposal,
    warnings: r.warnings,
    unknown: r.unknown,
  }),
};
