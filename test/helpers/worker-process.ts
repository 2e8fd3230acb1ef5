import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

const bin = join(__dirname, '..', '..', 'bin', 'recover.js');

/**
 * A real `recover worker` (or `recover monitor`) process, as an operator would run it; short lock
 * times so a killed one is noticed fast.
 */
export async function startWorkerProcess(
  configFile: string,
  env: Record<string, string>,
  command: 'worker' | 'monitor' = 'worker',
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [bin, command, '--config', configFile], {
    env: { PATH: process.env.PATH ?? '', RECOVER_LOCK_MS: '1000', RECOVER_STALLED_MS: '500', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const deadline = Date.now() + 60_000; // a deadline: a start can take seconds on a loaded machine
  while (!out.includes(`${command} ready`)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`${command} did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, output: () => out, exited };
}
