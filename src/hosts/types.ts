/** What a command on a host did. Output is kept as a tail (and redacted) for the step result. */
export interface CommandResult {
  exitCode: number | null;
  /** Set when the process was ended by a signal (or by our timeout). */
  signal: string | null;
  stdoutTail: string;
  stderrTail: string;
  durationMs: number;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs: number;
  /** Bytes written to the command's stdin, then closed. */
  stdin?: Buffer | string;
}

/**
 * Runs argv on one host: over SSH (every element shell-quoted for the remote shell) or as a local
 * process (no shell at all). Connections are reused until close().
 */
export interface HostExecutor {
  readonly node: string;
  run(argv: readonly string[], options: RunOptions): Promise<CommandResult>;
  /** Open the connection now (SSH) rather than on the first command; a no-op where there is none. */
  connect?(): Promise<void>;
  close(): Promise<void>;
}
