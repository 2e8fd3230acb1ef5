import type { TungstenNodeStatus } from './report';

/** SUSPECT replicator or progress=-1: the manager may show ONLINE while it does not know (docs). */
export function isSuspectStatus(n: Pick<TungstenNodeStatus, 'cluster'>): boolean {
  return n.cluster !== null && (n.cluster.replicator?.state === 'SUSPECT' || n.cluster.progress === null);
}
