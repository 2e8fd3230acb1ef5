import type { Topology } from '../config/topology';
import type { DbRegistry } from '../db/connect';
import type { HostExecutors } from '../hosts/executors';
import { flavourOf } from '../flavours/registry';
import type { StatusReport } from '../flavours/types';

export type { StatusReport } from '../flavours/types';
export { UnsupportedFlavourError } from '../flavours/registry';

/** Where a probe gets each node's pool and host; hosts are optional for flavours that read only SQL. */
export interface InspectAccess {
  dbs: Pick<DbRegistry, 'get'>;
  hosts?: Pick<HostExecutors, 'get'>;
  /** Password variables by name (a CLI that takes one on stdin); absent: none are known. */
  secret?: (envName: string) => string | undefined;
}

/** Probe every node of a topology with its flavour's probe, and propose. Pools stay in `dbs`. */
export async function inspectTopology(
  topology: Topology,
  access: Pick<DbRegistry, 'get'> | InspectAccess,
): Promise<StatusReport> {
  // A DbRegistry itself, or pools and hosts together (a registry has a private `dbs` field too).
  const { dbs, hosts, secret } =
    'get' in access ? { dbs: access, hosts: undefined, secret: undefined } : access;
  return flavourOf(topology.flavour).inspect(topology, {
    db: (node) => dbs.get(node, topology.name),
    host: (node) => {
      if (!hosts) throw new Error(`no host access for ${node.name} in this command`);
      return hosts.get(node);
    },
    ...(secret ? { secret } : {}),
  });
}
