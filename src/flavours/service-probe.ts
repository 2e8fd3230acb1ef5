import type { NodeConfig } from '../config/topology';
import { serviceStatus } from '../hosts/service-control';
import type { FleetAccess, ServiceProbe } from './types';

/** Resolves to `fallback` when `work` has not settled within ms; the loser's rejection is swallowed. */
export async function bounded<T>(
  work: Promise<T>,
  ms: number,
  fallback: (timedOut: boolean, err?: unknown) => T,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback(true)), ms);
  });
  try {
    return await Promise.race([work.catch((err: unknown) => fallback(false, err)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The node's service as its status command says over its host; null when none is configured. */
export async function probeService(
  node: NodeConfig,
  fleet: FleetAccess,
  timeoutMs: number,
): Promise<ServiceProbe | null> {
  if (!node.host || !node.service) return null;
  const service = node.service;
  const work = (async (): Promise<ServiceProbe> => serviceStatus(fleet.host(node), service))();
  // SSH down, a status that cannot tell, or no answer in time: unknown, never "stopped".
  return bounded<ServiceProbe>(work, timeoutMs, () => 'unknown');
}
