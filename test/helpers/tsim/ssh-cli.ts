import { SshExecutor } from '../../../src/hosts/ssh-executor';
import type { TsimCluster } from './cluster';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a host's tsim CLIs the way Recover does: over that host's real sshd with the product's
 * SshExecutor (one connection per host, reused). `tool` is a name in the host's binDir.
 */
export function tsimSsh(cluster: TsimCluster) {
  const executors = new Map<string, SshExecutor>();
  const executor = (host: string): SshExecutor => {
    let e = executors.get(host);
    if (!e) {
      const h = cluster.hosts.find((x) => x.name === host);
      if (!h) throw new Error(`no tsim host ${host}`);
      e = new SshExecutor(host, h.sshd.hostConfig(), { tailBytes: 64 * 1024 });
      executors.set(host, e);
    }
    return e;
  };
  return {
    async run(host: string, tool: string, args: string[] = [], stdin = ''): Promise<CliResult> {
      const h = cluster.hosts.find((x) => x.name === host);
      if (!h) throw new Error(`no tsim host ${host}`);
      const argv = tool.startsWith('/') ? [tool, ...args] : [`${h.binDir}/${tool}`, ...args];
      const r = await executor(host).run(argv, { timeoutMs: 30_000, stdin });
      return { code: r.exitCode, stdout: r.stdoutTail, stderr: r.stderrTail };
    },
    async close(): Promise<void> {
      await Promise.all([...executors.values()].map((e) => e.close()));
      executors.clear();
    },
  };
}
