import { SshExecutor } from '../../../src/hosts/ssh-executor';
import type { MsimFamily } from './family';

export interface SshRun {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Drives a family's CLIs the way the runbook does: argv over each host's real sshd, through the
 * product's SshExecutor (one connection per host, reused). close() ends them all.
 */
export function overSsh(family: MsimFamily): {
  run(replica: string, argv: string[]): Promise<SshRun>;
  close(): Promise<void>;
} {
  const executors = new Map<string, SshExecutor>();
  return {
    async run(replica, argv) {
      let ex = executors.get(replica);
      if (!ex)
        executors.set(replica, (ex = new SshExecutor(replica, family.host(replica).sshd.hostConfig())));
      const r = await ex.run(argv, { timeoutMs: 30_000 });
      return { code: r.exitCode, out: r.stdoutTail, err: r.stderrTail };
    },
    async close() {
      await Promise.all([...executors.values()].map((e) => e.close()));
      executors.clear();
    },
  };
}
