/** Poll `check` until it returns a truthy value (returned), or fail after `ms` naming `what`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  ms = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
