import type { Redis } from 'ioredis';

export class RedisConfigError extends Error {
  readonly code = 'REDIS_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'RedisConfigError';
  }
}

export interface RedisReadiness {
  /** Said once at start; the bot runs without persistence, but a Redis restart then loses runs. */
  warnings: string[];
}

/**
 * Refuse to run on a Redis that may evict keys (a run's ledger or lease silently vanishing is
 * exactly what must never happen mid-recovery); warn when nothing is persisted.
 */
export async function checkRedis(redis: Redis): Promise<RedisReadiness> {
  const policy = await configValue(redis, 'maxmemory-policy');
  if (policy !== 'noeviction')
    throw new RedisConfigError(
      `Redis maxmemory-policy is "${policy}": set it to noeviction (redis-server --maxmemory-policy noeviction), or runs may lose their state`,
    );
  const warnings: string[] = [];
  const aof = await configValue(redis, 'appendonly');
  const save = await configValue(redis, 'save');
  if (aof !== 'yes' && !save)
    warnings.push(
      'Redis has no persistence (appendonly no, save ""): a Redis restart would lose run state; enable AOF',
    );
  return { warnings };
}

async function configValue(redis: Redis, name: string): Promise<string> {
  const pair = (await redis.config('GET', name)) as string[];
  return pair[1] ?? '';
}
