import type { Redis } from 'ioredis';
import { MonitorKeys } from '../../src/monitor/alert-store';
import { MonitorMemory } from '../../src/monitor/types';

/** Polls of a topology so far, by any instance (the monitor's memory in Redis). */
export async function pollCount(redis: Redis, prefix: string, topology: string): Promise<number> {
  const raw = await redis.get(new MonitorKeys(prefix).memory(topology));
  return raw ? MonitorMemory.parse(JSON.parse(raw)).polls : 0;
}

/** Let at least `n` more polls of the topology complete. */
export async function pollsPass(redis: Redis, prefix: string, topology: string, n: number): Promise<void> {
  const start = await pollCount(redis, prefix, topology);
  const deadline = Date.now() + 20_000;
  while ((await pollCount(redis, prefix, topology)) < start + n) {
    if (Date.now() > deadline) throw new Error(`fewer than ${n} polls of ${topology} in 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
