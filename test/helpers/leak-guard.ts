/**
 * Fails a test file that leaves sockets or timers open (a pool not closed, a probe still waiting),
 * the way graphile-worker guards against leaked workers. Call in afterAll, after cleanup.
 */
export async function expectNoLeakedHandles(graceMs = 200): Promise<void> {
  const deadline = Date.now() + graceMs;
  let open = leaked();
  while (open.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    open = leaked();
  }
  if (open.length > 0) throw new Error(`leaked handles after the test file: ${open.join(', ')}`);
}

function leaked(): string[] {
  // TTYWrap and the jest worker's own pipe are not ours.
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap');
}
