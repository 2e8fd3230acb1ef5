export interface CliContext {
  env: NodeJS.ProcessEnv;
  /** The chat shell reads its lines here; a TTY gets a prompt, anything else is a script. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  defaultConfigFile: string;
  exitCode: number;
  /** Wait for cleanup, but never let a hung node's socket hold the terminal. */
  closeWithin(work: Promise<unknown>, ms: number): Promise<void>;
  /** Resolves on SIGINT or SIGTERM (long-running commands: the worker). */
  untilSignal(): Promise<string>;
}
