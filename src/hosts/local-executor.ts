import { spawn, type ChildProcess } from 'node:child_process';
import { OutputTail, TAIL_BYTES } from './redact';
import type { CommandResult, HostExecutor, RunOptions } from './types';

export class LocalExecError extends Error {
  readonly code = 'SPAWN';
  constructor(
    readonly node: string,
    readonly command: string,
    message: string,
  ) {
    super(`${node} (local) running ${command}: ${message}`);
    this.name = 'LocalExecError';
  }
}

export interface LocalExecutorOptions {
  /** Values to replace with [redacted] in output tails. */
  secrets?: readonly string[];
  tailBytes?: number;
  /** After SIGTERM on timeout, how long until SIGKILL. */
  killGraceMs?: number;
  /** The child's environment (default: inherited). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Runs argv as a local process, with no shell: every element reaches the program as one argument,
 * so `; rm -rf /` is just text. The transport of the one-host demo.
 */
export class LocalExecutor implements HostExecutor {
  private readonly running = new Set<ChildProcess>();

  constructor(
    readonly node: string,
    private readonly options: LocalExecutorOptions = {},
  ) {}

  run(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (!file) return Promise.reject(new LocalExecError(this.node, '(none)', 'empty argv'));
    const grace = this.options.killGraceMs ?? 2000;
    const stdout = new OutputTail(this.options.tailBytes ?? TAIL_BYTES, this.options.secrets);
    const stderr = new OutputTail(this.options.tailBytes ?? TAIL_BYTES, this.options.secrets);
    const started = performance.now();
    return new Promise<CommandResult>((resolve, reject) => {
      // Its own process group, so a timeout ends the command's children too (sh -c 'a; b').
      const child = spawn(file, args, {
        stdio: 'pipe',
        detached: true,
        ...(this.options.env ? { env: this.options.env } : {}),
        ...(this.options.cwd ? { cwd: this.options.cwd } : {}),
      });
      this.running.add(child);
      let timedOut = false;
      let exitCode: number | null = null;
      let exitSignal: string | null = null;
      let done = false;
      const timers: NodeJS.Timeout[] = [];
      const settle = (error?: Error) => {
        if (done) return;
        done = true;
        timers.forEach(clearTimeout);
        this.running.delete(child);
        if (error) return reject(error);
        resolve({
          exitCode,
          signal: exitSignal,
          stdoutTail: stdout.text(),
          stderrTail: stderr.text(),
          durationMs: Math.round(performance.now() - started),
          timedOut,
        });
      };
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (child.pid === undefined)
          settle(new LocalExecError(this.node, file, `cannot start: ${err.code ?? err.message}`));
      });
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.stdin.on('error', () => undefined); // EPIPE: the command did not read its input
      child.stdin.end(options.stdin);
      child.on('exit', (code, signal) => {
        [exitCode, exitSignal] = [code, signal];
        // A background grandchild may keep our pipes open for ever: stop listening after a grace.
        timers.push(setTimeout(() => (child.stdout.destroy(), child.stderr.destroy(), settle()), grace));
      });
      child.on('close', () => settle());
      timers.push(
        setTimeout(() => {
          timedOut = true;
          killGroup(child, 'SIGTERM');
          timers.push(setTimeout(() => killGroup(child, 'SIGKILL'), grace));
        }, options.timeoutMs),
      );
    });
  }

  /** Ends commands still running (their run() resolves with the signal). */
  async close(): Promise<void> {
    for (const child of this.running) killGroup(child, 'SIGKILL');
    this.running.clear();
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal); // the group is gone already, or was never ours
  }
}
