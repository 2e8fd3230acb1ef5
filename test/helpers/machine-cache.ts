import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STALE_LOCK_MS = 120_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Builds the directory `root` once per machine (a database template, say). Jest workers asking at
 * once serialise on a lock directory (mkdir is atomic); the others wait for `root/ready`, which is
 * written only after `build` succeeded. A lock older than two minutes was left by a killed run.
 */
export async function buildOncePerMachine(
  root: string,
  what: string,
  build: () => Promise<void>,
): Promise<void> {
  const ready = join(root, 'ready');
  const lock = `${root}.lock`;
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    if (existsSync(ready)) return;
    try {
      mkdirSync(lock);
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${what} ${root} is still locked`);
      await sleep(100);
      continue;
    }
    try {
      if (!existsSync(ready)) {
        await build();
        writeFileSync(ready, `${new Date().toISOString()}\n`);
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
