import { Redis } from 'ioredis';
import { serviceUrls } from '../../src/config/env';
import { checkRedis, RedisConfigError } from '../../src/engine/redis-checks';
import { ownRedis, type OwnRedis } from '../helpers/own-redis';

let evicting: OwnRedis;

beforeAll(async () => {
  evicting = await ownRedis(['--maxmemory-policy', 'allkeys-lru', '--appendonly', 'yes']);
  await evicting.start();
});

afterAll(() => evicting.destroy());

it('refuses a Redis that may evict keys, naming the setting and the fix', async () => {
  const redis = new Redis(evicting.url);
  try {
    const err = await checkRedis(redis).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisConfigError);
    expect((err as Error).message).toMatch(/maxmemory-policy is "allkeys-lru": set it to noeviction/);
  } finally {
    redis.disconnect();
  }
});

it('warns when Redis persists nothing (the shared test Redis runs without AOF or snapshots)', async () => {
  const redis = new Redis(serviceUrls().redisUrl);
  try {
    const { warnings } = await checkRedis(redis);
    expect(warnings).toEqual([
      expect.stringMatching(/no persistence .* a Redis restart would lose run state/),
    ]);
  } finally {
    redis.disconnect();
  }
});
