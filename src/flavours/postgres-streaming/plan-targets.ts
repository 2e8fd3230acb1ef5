import type { Runbook } from '../../runbook/types';
import type { PostgresReport } from './report';

/**
 * Which nodes a runbook with --target would act on now, for the status message's Plan buttons:
 * a rebuild for a node that is not a streaming standby (unknown, not streaming, a second
 * primary), a switchover to a streaming standby, a new data center's first node that does not
 * answer yet.
 */
export function pgPlanTargets(runbook: Runbook, r: PostgresReport): string[] {
  const primary = r.nodes.find((n) => n.role === 'primary')?.name;
  switch (runbook.name) {
    case 'postgres-rebuild-standby':
      return r.nodes
        .filter((n) => n.name !== primary && !(n.role === 'standby' && n.streaming === true))
        .map((n) => n.name);
    case 'postgres-switchover':
      return r.nodes.filter((n) => n.role === 'standby' && n.streaming === true).map((n) => n.name);
    case 'postgres-new-datacenter': {
      const home = r.nodes.find((n) => n.name === primary)?.dataCenter;
      return r.nodes.filter((n) => !n.reachable && n.dataCenter !== home).map((n) => n.name);
    }
    default:
      return r.nodes.map((n) => n.name);
  }
}
