import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { abort, approve, decide, type Decision } from '../../src/engine/decisions';
import type { EngineDeps } from '../../src/engine/deps';
import type { Rng } from './prng';

/** What came of one human action: done (and counted?), refused by the engine, or unknown (killed). */
export type Outcome =
  | { kind: 'ok'; counted: boolean; text: string }
  | { kind: 'refused'; text: string }
  | { kind: 'lost'; text: string };

/** How the humans reach the engine: in this process, or through `recover` CLI processes. */
export interface Hands {
  approve(runId: string, approver: string): Promise<Outcome>;
  decide(runId: string, stepId: string, choice: Decision, actor: string): Promise<Outcome>;
  abort(runId: string, actor: string): Promise<Outcome>;
  /** Engine processes of the humans killed mid-request. */
  kills: number;
}

const refusedOrThrow = (err: unknown): Outcome => {
  const e = err as Error & { code?: string };
  if (e.name === 'EngineError' || e.name === 'LedgerError')
    return { kind: 'refused', text: `${e.code}: ${e.message}` };
  return { kind: 'lost', text: e.message }; // Redis down and the like: the human does not know
};

/** The humans' requests run in this process against the engine's API (the Slack bot's path). */
export function inProcessHands(deps: EngineDeps): Hands {
  return {
    kills: 0,
    approve: (runId, approver) =>
      approve(deps, { runId, approver: { id: approver } }).then(
        (r) => ({ kind: 'ok' as const, counted: r.counted, text: `gate ${r.gate}` }),
        refusedOrThrow,
      ),
    decide: (runId, stepId, choice, actor) =>
      decide(deps, runId, stepId, choice, { id: actor }).then(
        () => ({ kind: 'ok' as const, counted: true, text: `${choice} ${stepId}` }),
        refusedOrThrow,
      ),
    abort: (runId, actor) =>
      abort(deps, runId, { id: actor }).then(
        () => ({ kind: 'ok' as const, counted: true, text: 'aborted' }),
        refusedOrThrow,
      ),
  };
}

const bin = join(__dirname, '..', '..', 'bin', 'recover.js');

/**
 * Every request is its own `recover` process (another engine instance beside the workers), and
 * with probability `killChance` it is SIGKILLed part way: after a delay drawn around how long such
 * a process takes, so some die before, some inside, some after the engine call.
 */
export function cliHands(o: {
  configFile: string;
  env: Record<string, string>;
  rng: Rng;
  killChance: number;
}): Hands {
  let typicalMs = 1500;
  const hands: Hands = {
    kills: 0,
    approve: (runId, approver) => cli(['approve', runId, '--as', approver, '--no-follow']),
    decide: (runId, stepId, choice, actor) => cli(['decide', runId, stepId, choice, '--as', actor]),
    abort: (runId, actor) => cli(['abort', runId, '--as', actor]),
  };
  async function cli(args: string[]): Promise<Outcome> {
    const started = Date.now();
    const child = spawn(process.execPath, [bin, ...args, '--config', o.configFile], {
      env: { ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const killAt = o.rng.chance(o.killChance) ? o.rng.between(0.6, 1.1) * typicalMs : null;
    const timer = killAt === null ? undefined : setTimeout(() => child.kill('SIGKILL'), killAt);
    const code = await new Promise<number | string>((resolve) =>
      child.on('exit', (c, s) => resolve(c ?? s ?? -1)),
    );
    clearTimeout(timer);
    const text = out.trim().split('\n').slice(-2).join(' | ');
    if (code === 'SIGKILL') {
      hands.kills++;
      return { kind: 'lost', text: `killed after ${Date.now() - started} ms` };
    }
    typicalMs = 0.8 * typicalMs + 0.2 * (Date.now() - started);
    if (code === 0) return { kind: 'ok', counted: !/counted once/.test(out), text };
    return { kind: 'refused', text: `exit ${code}: ${text}` };
  }
  return hands;
}
