import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import YAML from 'yaml';
import { createEngineRuntime, type EngineRuntime } from '../../src/app/engine-runtime';
import { serviceUrls } from '../../src/config/env';
import type { Access, RecoverConfig } from '../../src/config/topology';
import { RecoverConfig as RecoverConfigSchema } from '../../src/config/topology';
import type { EngineEvent, Notifier, RunState } from '../../src/engine/types';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';

export class RecordingNotifier implements Notifier {
  readonly events: EngineEvent[] = [];
  async notify(event: EngineEvent): Promise<void> {
    this.events.push(event);
  }
  types(): string[] {
    return this.events.map((e) => e.type);
  }
}

/** The fleet's topology with access rules added, written next to it; returns the file and the parsed config. */
export function configWithAccess(
  fleet: Fleet,
  access: Partial<Access>,
  groups: Record<string, string[]> = {},
): { file: string; config: RecoverConfig } {
  const raw = YAML.parse(YAML.stringify(fleet.config)) as { topologies: Record<string, unknown>[] };
  raw.topologies[0]!.access = { ...access };
  // Monitoring (on by default) has tests of its own; here its alerts would only add posts.
  raw.topologies[0]!.monitor = { enabled: false };
  const file = fleet.topologyFile.replace(/\.yaml$/, '') + '.access.yaml';
  writeFileSync(file, YAML.stringify({ ...raw, groups }));
  return { file, config: RecoverConfigSchema.parse({ ...raw, groups }) };
}

export interface TestEngine extends EngineRuntime {
  notifier: RecordingNotifier;
  prefix: string;
}

export async function startTestEngine(
  config: RecoverConfig,
  prefix: string,
  options: { env?: NodeJS.ProcessEnv; clock?: () => Date; redisUrl?: string } = {},
): Promise<TestEngine> {
  const notifier = new RecordingNotifier();
  const rt = await createEngineRuntime({
    config,
    redisUrl: options.redisUrl ?? serviceUrls().redisUrl,
    prefix,
    notifier,
    env: options.env ?? {},
    clock: options.clock,
  });
  return Object.assign(rt, { notifier, prefix });
}

/** Delete every key under a test's prefix (BullMQ's and ours). */
export async function dropPrefix(prefix: string, redisUrl = serviceUrls().redisUrl): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Poll until the run reaches one of the states (or fail with what it was). */
export async function waitForRunState(
  rt: EngineRuntime,
  runId: string,
  states: RunState[],
  timeoutMs = 15_000,
): Promise<RunState> {
  const deadline = Date.now() + timeoutMs;
  let last: RunState | undefined;
  while (Date.now() < deadline) {
    const run = await rt.deps.ledger.getRun(runId);
    last = run?.state;
    const running = (await rt.deps.ledger.getSteps(runId)).some((s) => s.state === 'running');
    if (run && states.includes(run.state) && !running) return run.state;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${runId} did not reach ${states.join('|')} within ${timeoutMs} ms (last: ${last})`);
}
