/**
 * Everything the suite creates registers how to undo it here; `runAll` undoes it in reverse
 * order, once, whether the suite finished, failed or was interrupted (Ctrl-C, SIGTERM).
 */
type Undo = () => unknown;

const undos: { what: string; undo: Undo }[] = [];
let ran: Promise<string[]> | undefined;

/** Returns a function that runs (and forgets) this one undo early, e.g. when a run is finished with. */
export function onCleanup(what: string, undo: Undo): () => Promise<void> {
  const entry = { what, undo };
  undos.push(entry);
  return async () => {
    const i = undos.indexOf(entry);
    if (i < 0) return;
    undos.splice(i, 1);
    await entry.undo();
  };
}

/**
 * Undo everything still registered; returns what failed to be undone (one line each). Code still
 * running when an interrupt came (a fleet half set up) may create more after its undo ran, so a
 * second pass, two seconds later, runs every undo again (they are all safe to repeat).
 */
export function cleanupAll(): Promise<string[]> {
  ran ??= (async () => {
    const failures: string[] = [];
    const done: typeof undos = [];
    while (undos.length > 0) {
      const entry = undos.pop()!;
      done.push(entry);
      try {
        await entry.undo();
      } catch (err) {
        failures.push(`${entry.what}: ${(err as Error).message}`);
      }
    }
    if (interrupted) {
      await new Promise((r) => setTimeout(r, 2000));
      for (const entry of [...undos.splice(0).reverse(), ...done])
        await Promise.resolve(entry.undo()).catch(() => undefined);
    }
    return failures;
  })();
  return ran;
}

let interrupted = false;

/** Ctrl-C / SIGTERM: clean up, then exit 130 / 143. A second signal exits at once. */
export function cleanupOnSignals(log: (line: string) => void): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      interrupted = true;
      log(`${signal}: cleaning up…`);
      process.once(signal, () => process.exit(code));
      void cleanupAll().then((failures) => {
        for (const f of failures) log(`cleanup failed: ${f}`);
        process.exit(code);
      });
    });
  }
}
