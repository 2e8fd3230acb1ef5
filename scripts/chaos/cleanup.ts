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

/** Undo everything still registered; returns what failed to be undone (one line each). */
export function cleanupAll(): Promise<string[]> {
  ran ??= (async () => {
    const failures: string[] = [];
    while (undos.length > 0) {
      const { what, undo } = undos.pop()!;
      try {
        await undo();
      } catch (err) {
        failures.push(`${what}: ${(err as Error).message}`);
      }
    }
    return failures;
  })();
  return ran;
}

/** Ctrl-C / SIGTERM: clean up, then exit 130 / 143. A second signal exits at once. */
export function cleanupOnSignals(log: (line: string) => void): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up…`);
      process.once(signal, () => process.exit(code));
      void cleanupAll().then((failures) => {
        for (const f of failures) log(`cleanup failed: ${f}`);
        process.exit(code);
      });
    });
  }
}
