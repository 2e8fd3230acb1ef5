/**
 * A stand-in worker for the "worker SIGKILLed mid-restore" tests: runs one dump→restore (or one
 * tied `sleep`) and prints what the test needs to know, one JSON object a line, then waits to die.
 * Run as: node -r tsx/cjs test/helpers/restore-child.ts '<json>'.
 */
import { spawn } from 'node:child_process';
import type { SqlNode } from '../../src/config/topology';
import { dumpRestore } from '../../src/restore/dump-restore';
import { tiedToParent } from '../../src/restore/tie-to-parent';

interface Args {
  mode: 'restore' | 'sleep';
  source?: SqlNode;
  target?: SqlNode;
  env?: Record<string, string>;
  tag?: string;
}

const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  if (args.mode === 'sleep') {
    const [file, ...rest] = tiedToParent(['sleep', '60'], process.env.PATH) as [string, ...string[]];
    const child = spawn(file, rest, { stdio: 'ignore' });
    say({ sleep: child.pid });
    return;
  }
  let step = 0;
  const r = await dumpRestore(args.source!, args.target!, {
    env: { PATH: process.env.PATH ?? '', ...args.env },
    timeoutMs: 120_000,
    tag: args.tag,
    onSpawn: (pids) => say({ pids }),
    onProgress: (bytes) => {
      if (bytes >= step) say({ bytes });
      while (bytes >= step) step += 256 * 1024;
    },
  });
  say({ done: r.ok, error: r.error });
}

void main();
