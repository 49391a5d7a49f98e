/**
 * Redis's eviction policy is watched: with any policy but `noeviction` a Redis at its `maxmemory` evicts croupier's
 * state, and the counters silently stop matching the clickstream. In a twelfth attack pass `allkeys-lru` evicted
 * 2,125 keys in 20 s under traffic; 1,071 counters then differed from the reference fold while `/readyz` said
 * ready and nothing was logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.ts';
import { watchEvictionPolicy } from '../../src/state/eviction-policy.ts';
import { type ServeChild, startCroupierServe } from '../support/croupier-serve.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe("Redis's eviction policy", () => {
  let redis: TestRedis;
  let serve: ServeChild | undefined;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await serve?.stop();
    await redis.close();
  });

  it('is a warning while it lets Redis evict keys, and none once it is noeviction', async () => {
    await redis.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const watch = watchEvictionPolicy({
      redis: redis.client,
      intervalMs: 100,
      logger: createLogger({ level: 'silent' }),
    });
    try {
      await until(() => watch.warnings().length > 0);
      expect(watch.warnings()).toEqual([expect.stringContaining('maxmemory-policy is allkeys-lru')]);
      await redis.client.config('SET', 'maxmemory-policy', 'noeviction');
      await until(() => watch.warnings().length === 0);
      expect(watch.warnings()).toEqual([]);
    } finally {
      watch.close();
    }
  });

  it("is listed under /readyz's warnings by croupier serve", async () => {
    await redis.client.config('SET', 'maxmemory-policy', 'volatile-lru');
    serve = await startCroupierServe([
      `redis.url=redis://${redis.server.host}:${redis.server.port}`,
      'log.level=silent',
    ]);
    const url = serve.url;
    let warnings: string[] = [];
    for (const deadline = Date.now() + 10_000; warnings.length === 0 && Date.now() < deadline; ) {
      warnings = ((await (await fetch(new URL('/readyz', url))).json()) as { warnings: string[] }).warnings;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(warnings.filter((w) => w.includes('maxmemory-policy is volatile-lru'))).toHaveLength(1);
  }, 60_000);
});
