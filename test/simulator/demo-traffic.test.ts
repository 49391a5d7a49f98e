import { describe, expect, it } from 'vitest';
import { startDemoTrafficIfWanted } from '../../simulator/demo-traffic.ts';
import { startCroupier } from '../../src/app/start.ts';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/logger.ts';

describe('croupier start with demo traffic', () => {
  it.each([
    ['with auth off', {}],
    ['with auth on (the demo signs its users in)', { authDisabled: false, authSecret: 'demo-auth-secret' }],
  ])(
    'plays simulated sessions against the gateway %s, and the clicks they send are folded into Redis',
    async (_, auth) => {
      const config = parseConfig({
        gateway: { port: 0, ...auth },
        kafka: { partitions: 2 },
        log: { level: 'silent' },
        demo: { traffic: 'auto', rate: 40, clients: 2 },
      });
      const croupier = await startCroupier({
        config,
        logger: silentLogger(),
        onStarted: startDemoTrafficIfWanted,
      });
      const { Redis } = await import('ioredis');
      const redis = new Redis(croupier.endpoints.redisUrl);
      try {
        let events = 0;
        let clicks = 0;
        for (let attempt = 0; attempt < 300 && (events < 200 || clicks < 1); attempt++) {
          await new Promise((r) => setTimeout(r, 100));
          events = 0;
          clicks = 0;
          for (const key of await redis.keys(`${config.redis.keyPrefix}{clickstream:*}:stats`)) {
            events += Number((await redis.hget(key, 'events')) ?? 0);
          }
          for (const key of await redis.keys(`${config.redis.keyPrefix}{clickstream:*}:user:*`)) {
            clicks += Number((await redis.hget(key, 'clk')) ?? 0);
          }
        }
        expect(events).toBeGreaterThanOrEqual(200);
        expect(clicks).toBeGreaterThanOrEqual(1);
      } finally {
        redis.disconnect();
        await croupier.close();
      }
    },
  );

  it('stays off by default when a PostgreSQL CDC source is configured: its catalog would mix with the database', async () => {
    const config = parseConfig({ cdc: { postgresUrl: 'postgres://croupier@127.0.0.1:1/shop' } });
    const loop = { config, endpoints: { embedded: { broker: true } } } as Parameters<
      typeof startDemoTrafficIfWanted
    >[0];
    expect(await startDemoTrafficIfWanted(loop)).toBeUndefined();
  });
});
