import type { Topology } from '../../config/topology';
import type { Flavour, TopologyProblem } from '../types';
import { coremediaBasis, coremediaDrift } from './basis';
import { describeHoldings } from './holdings';
import { evaluateConditions, proposalSummary } from './monitor';
import {
  COREMEDIA_NODE_SETS,
  coremediaCheckTarget,
  coremediaEmptySetReason,
  coremediaNodeSet,
} from './node-sets';
import { probeService } from '../service-probe';
import { probeCoremediaFleet } from './probe';
import { proposeDedicatedSlave } from './propose';
import type { CoremediaReport } from './report';
import { inSyncReplicatorSettings } from './runbooks/in-sync-replicator-settings';
import { masterFromSlave } from './runbooks/master-from-slave';
import { slaveFromMaster } from './runbooks/slave-from-master';
import { slaveFromMasterSql } from './runbooks/slave-from-master-sql';
import { statusMessage } from './status-blocks';
import { renderStatusText } from './status-text';

/** Every CoreMedia node is reached over SQL, and one of them is the master by configuration. */
function checkTopology(topology: Topology): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  if (topology.master === undefined)
    problems.push({ path: ['master'], message: 'missing: a coremedia topology names its master' });
  topology.nodes.forEach((n, i) => {
    if (n.db === undefined)
      problems.push({
        path: ['nodes', i, 'db'],
        message: 'missing: every coremedia node is probed over SQL',
      });
  });
  return problems;
}

/** CoreMedia Content Server replication (seeds 000 and 001): the dedicated slave and its runbooks. */
export const coremedia: Flavour<CoremediaReport> = {
  name: 'coremedia',
  title: 'CoreMedia Content Server replication',
  checkTopology,
  async inspect(topology, fleet) {
    const started = performance.now();
    const byName = new Map(topology.nodes.map((n) => [n.name, n]));
    // The Live Server's service beside the database: a crashed server over a healthy database is not "ok".
    const [probed, services] = await Promise.all([
      probeCoremediaFleet(topology, (name) => fleet.db(byName.get(name)!)),
      Promise.all(topology.nodes.map((n) => probeService(n, fleet, topology.probe.timeoutMs))),
    ]);
    probed.nodes.forEach((n, i) => (n.service = services[i] ?? null));
    const proposal = proposeDedicatedSlave(probed);
    return { ...probed, ...proposal, durationMs: Math.round(performance.now() - started) };
  },
  runbooks: [slaveFromMasterSql, inSyncReplicatorSettings, masterFromSlave, slaveFromMaster],
  nodeSets: COREMEDIA_NODE_SETS,
  // A slave to rebuild is one the proposal says to restore.
  planTargets: (runbook, report) =>
    runbook.target === 'slave' ? [...report.toRestore] : report.nodes.map((n) => n.name),
  nodeSet: coremediaNodeSet,
  emptySetReason: coremediaEmptySetReason,
  checkTarget: coremediaCheckTarget,
  planBasis: coremediaBasis,
  drift: coremediaDrift,
  holdings: (db) => describeHoldings(db),
  followUp: (basis) => basis.followUp,
  monitor: (input) => evaluateConditions(input),
  render: {
    statusText: renderStatusText,
    statusMessage,
    basisLines: (basis) => [basis.summary],
    proposalLine: proposalSummary,
  },
  toJson: (report) => report,
};
