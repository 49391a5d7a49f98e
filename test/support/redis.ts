/**
 * Test fixture: a real redis-server on a free port (never the machine's shared 6379), a client, and a
 * random key prefix per test so suites cannot see each other's keys.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  type RedisServerHandle,
  type RedisServerOptions,
  startRedisServer,
} from '../../src/embedded/redis-server.ts';

export interface TestRedis {
  server: RedisServerHandle;
  client: Redis;
  /** A fresh `test:<random>:` prefix. */
  prefix(): string;
  close(): Promise<void>;
}

export async function startTestRedis(options: RedisServerOptions = {}): Promise<TestRedis> {
  const server = await startRedisServer(options);
  const client = new Redis({ host: server.host, port: server.port, maxRetriesPerRequest: 1 });
  return {
    server,
    client,
    prefix: () => `test:${randomBytes(4).toString('hex')}:`,
    async close() {
      client.disconnect();
      await server.close();
    },
  };
}
