import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Rng } from './prng';

interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | string>;
}

const bin = join(__dirname, '..', '..', 'bin', 'recover.js');

/**
 * As test/helpers/worker-process.ts, but patient (this machine is shared and slow at times) and a
 * worker that does not come up is killed rather than left behind.
 */
async function startWorkerProcess(
  configFile: string,
  env: Record<string, string>,
  starting: Set<ChildProcess>,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [bin, 'worker', '--config', configFile], {
    env: { RECOVER_LOCK_MS: '1000', RECOVER_STALLED_MS: '500', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  starting.add(child);
  child.on('exit', () => starting.delete(child));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const deadline = Date.now() + 60_000;
  while (!out.includes('worker ready')) {
    if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`worker did not start: ${out.slice(-500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  starting.delete(child);
  return { child, output: () => out, exited };
}

/**
 * The `recover worker` processes of one run, as an operator runs them (separate processes, short
 * lock and stall times). The chaos kills them with SIGKILL and the pool starts replacements.
 */
export class WorkerPool {
  private readonly live: WorkerProcess[] = [];
  /** Spawned, not ready yet: close() must not miss them. */
  private readonly starting = new Set<ChildProcess>();
  private closed = false;
  kills = 0;
  starts = 0;
  /** The last words of killed workers (a stuck run's description may need them). */
  readonly tails: string[] = [];

  constructor(
    private readonly configFile: string,
    private readonly env: Record<string, string>,
    public size: number,
  ) {}

  get count(): number {
    return this.live.length;
  }

  /** Every worker it should have is up (the chaos kills only then, so a run is never starved). */
  get full(): boolean {
    return this.live.length >= this.size && this.filling === null;
  }

  private filling: Promise<void> | null = null;

  /** Start workers until `size` run; a start that fails (Redis down) is retried until `deadline`. */
  fill(deadline = Date.now() + 120_000): Promise<void> {
    this.filling ??= this.doFill(deadline).finally(() => (this.filling = null));
    return this.filling;
  }

  private async doFill(deadline: number): Promise<void> {
    while (!this.closed && this.live.length < this.size) {
      try {
        const w = await startWorkerProcess(this.configFile, this.env, this.starting);
        if (this.closed) {
          w.child.kill('SIGKILL');
          return;
        }
        this.live.push(w);
        this.starts++;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** SIGKILL one worker (chosen by rng); waits until it is gone. */
  async killOne(rng: Rng): Promise<boolean> {
    if (this.live.length === 0) return false;
    const w = this.live.splice(rng.int(0, this.live.length - 1), 1)[0]!;
    await this.kill(w);
    return true;
  }

  async killAll(): Promise<void> {
    for (const w of this.live.splice(0)) await this.kill(w);
  }

  /** Cleanup: no more starts, every worker gone. Not counted as a chaos kill. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.starting) c.kill('SIGKILL');
    const all = this.live.splice(0);
    for (const w of all) w.child.kill('SIGKILL');
    await Promise.all(all.map((w) => w.exited));
  }

  private async kill(w: WorkerProcess): Promise<void> {
    w.child.kill('SIGKILL');
    await w.exited;
    this.kills++;
    this.tails.push(w.output().slice(-600));
    if (this.tails.length > 4) this.tails.shift();
  }
}
