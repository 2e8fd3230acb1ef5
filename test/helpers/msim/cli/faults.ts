import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Faults a host applies to the next packets it receives (file MSIM_FAULTS in the host root, a
 * JSON array consumed front to back). The test side appends; the receiving shipping_server takes.
 */
export type Fault =
  | { kind: 'drop' }
  | { kind: 'truncate' }
  | { kind: 'duplicate' }
  | { kind: 'reorder' }
  | { kind: 'delay'; ms: number }
  /** The next syncreplica -import here dies (SIGKILL) right after committing its first packet. */
  | { kind: 'killImport' }
  /** The next restorereplica here takes `ms` longer after its commit (a worker can die while it runs). */
  | { kind: 'slowRestore'; ms: number };

export function readFaults(file: string): Fault[] {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Fault[];
  } catch {
    return [];
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Run `fn` holding `${file}.lock` (O_EXCL): two packets arriving at once take different faults. */
export function withFaultsLock<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 200) throw err;
      sleepSync(10);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Take the first fault of one of `kinds`, if any. */
export function takeFault(file: string, kinds: Fault['kind'][]): Fault | undefined {
  return withFaultsLock(file, () => {
    const faults = readFaults(file);
    const at = faults.findIndex((f) => kinds.includes(f.kind));
    const next = at >= 0 ? faults.splice(at, 1)[0] : undefined;
    if (next) {
      writeFileSync(`${file}.tmp`, JSON.stringify(faults));
      renameSync(`${file}.tmp`, file);
    }
    return next;
  });
}
