import { TungstenTopologySettings } from '../../src/flavours/tungsten/config';
import type { CctrlDatasource } from '../../src/flavours/tungsten/parse/cctrl-ls';
import { proposeRestore } from '../../src/flavours/tungsten/propose';
import type { ClusterView, TungstenNodeStatus, TungstenReport } from '../../src/flavours/tungsten/report';

/** Tungsten status fixtures for unit tests: a healthy host1 (primary) with replicas host2 and host3. */
export const settings = TungstenTopologySettings.parse({ service: 'alpha' });
export const known: ClusterView = {
  known: true,
  error: null,
  coordinator: { host: 'host1', policy: 'AUTOMATIC', state: 'ONLINE' },
};

/** A datasource as `cctrl ls` lists it, with `extra` applied. */
export function ds(
  name: string,
  role: 'primary' | 'replica',
  extra: Partial<CctrlDatasource> = {},
): CctrlDatasource {
  return {
    name,
    role,
    state: 'ONLINE',
    stateDetail: null,
    progress: 10,
    latency: 0.5,
    status: 'OK',
    reason: null,
    manager: 'ONLINE',
    replicator: { role: role === 'primary' ? 'master' : 'slave', master: 'host1', state: 'ONLINE' },
    dataserver: 'ONLINE',
    ...extra,
  };
}

/** A node as the probe reports it, with `extra` applied. */
export function node(
  name: string,
  role: 'primary' | 'replica',
  extra: Partial<TungstenNodeStatus> = {},
): TungstenNodeStatus {
  return {
    name,
    role,
    engine: 'mysql',
    reachable: true,
    error: null,
    latencyMs: null,
    service: null,
    datasource: name,
    cluster: ds(name, role),
    replicator: {
      state: 'ONLINE',
      role: role === 'primary' ? 'master' : 'slave',
      appliedLastSeqno: role === 'primary' ? 120 : 110,
      appliedLastEventId: null,
      appliedLatency: 0.4,
      latestEpochNumber: 7,
      minimumStoredSeqNo: 0,
      maximumStoredSeqNo: 120,
      pendingError: null,
      pendingErrorSeqno: null,
      pendingExceptionMessage: null,
      serviceName: 'alpha',
      masterConnectUri: null,
      fields: {},
    },
    replicatorError: null,
    thl: { minSeqno: 0, maxSeqno: 120, events: 121, oldestFile: null },
    trep: [{ seqno: 110, epoch: 7, sourceId: 'host1', eventId: 'mysql-bin.000001:0000000000001000;-1' }],
    trepError: null,
    abilities: { thlListEvent: true, dsctlReset: true },
    backup: null,
    sourceId: name,
    ...extra,
  };
}

export const healthy = () => [node('host1', 'primary'), node('host2', 'replica'), node('host3', 'replica')];

/** The report over these nodes, with the real rules' proposal. */
export function report(nodes = healthy(), cluster = known): TungstenReport {
  return {
    topology: 'tc',
    flavour: 'tungsten',
    service: 'alpha',
    probedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 5,
    cluster,
    nodes,
    proposal: proposeRestore({ nodes, cluster, settings }),
    warnings: [],
    unknown: [],
  };
}
