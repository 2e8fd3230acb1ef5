import type { NodeConfig } from '../config/topology';
import { LocalExecutor, type LocalExecutorOptions } from './local-executor';
import { SshExecutor, type SshExecutorOptions } from './ssh-executor';
import type { HostExecutor } from './types';

export class HostConfigError extends Error {
  readonly code = 'NO_HOST';
  constructor(readonly node: string) {
    super(`node ${node} has no host configured: add a host (transport ssh or local) to it in the topology`);
    this.name = 'HostConfigError';
  }
}

export interface HostExecutorsOptions {
  /** Values to redact from every command's output (typically the fleet's database passwords). */
  secrets?: readonly string[];
  ssh?: Omit<SshExecutorOptions, 'secrets'>;
  local?: Omit<LocalExecutorOptions, 'secrets'>;
}

/** One executor per node, made on first use by the node's transport, so each host has one connection. */
export class HostExecutors {
  private readonly cache = new Map<string, HostExecutor>();

  constructor(private readonly options: HostExecutorsOptions = {}) {}

  get(node: NodeConfig): HostExecutor {
    const host = node.host;
    if (!host) throw new HostConfigError(node.name);
    // Keyed by name and host: two topologies may both have an "rls-1" on different machines.
    const key = `${node.name} ${JSON.stringify(host)}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const secrets = this.options.secrets ?? [];
    const executor =
      host.transport === 'ssh'
        ? new SshExecutor(node.name, host, { ...this.options.ssh, secrets })
        : new LocalExecutor(node.name, { ...this.options.local, secrets });
    this.cache.set(key, executor);
    return executor;
  }

  /**
   * Connect to every node's host now (SSH handshakes cost ~0.5 s each on a busy machine), so a
   * run's first probe and steps find the connections open. Returns the nodes that failed and why.
   */
  async warm(nodes: readonly NodeConfig[]): Promise<{ node: string; error: string }[]> {
    const tried = nodes
      .filter((n) => n.host?.transport === 'ssh')
      .map(async (n) => {
        try {
          await this.get(n).connect?.();
          return null;
        } catch (err) {
          return { node: n.name, error: (err as Error).message };
        }
      });
    return (await Promise.all(tried)).filter((f) => f !== null);
  }

  /** Closes every connection; later get() calls start afresh. */
  async closeAll(): Promise<void> {
    const executors = [...this.cache.values()];
    this.cache.clear();
    await Promise.allSettled(executors.map((e) => e.close()));
  }
}
