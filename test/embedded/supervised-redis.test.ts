/**
 * The embedded redis-server of `croupier start`: append-only persistence in its data directory, and a restart on
 * the same port and directory when it is killed, with its data back.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startSupervisedRedis } from '../../src/embedded/supervised-redis.ts';
import { silentLogger } from '../../src/log/logger.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('supervised embedded redis-server', () => {
  it('is restarted after kill -9 on the same port, with what it had acknowledged', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'croupier-test-redis-'));
    dirs.push(dataDir);
    const redis = await startSupervisedRedis({ dataDir, logger: silentLogger() });
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined); // refused while the server is down
    try {
      for (let i = 0; i < 100; i++) await client.hincrby('counts', 'n', 1);
      const first = redis.pid();
      process.kill(first, 'SIGKILL');
      await until('a new redis-server answers', async () =>
        redis.pid() !== first && (await client.ping()) === 'PONG' ? true : undefined,
      );
      expect(redis.restarts()).toBe(1);
      expect(await client.hget('counts', 'n')).toBe('100');
      expect(existsSync(join(dataDir, 'appendonlydir'))).toBe(true);
    } finally {
      client.disconnect();
      await redis.close();
    }
  });

  it('without persistence comes back empty, and removes its temporary directory on close', async () => {
    const redis = await startSupervisedRedis({ appendOnly: false, logger: silentLogger() });
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    try {
      await client.set('k', 'v');
      const first = redis.pid();
      process.kill(first, 'SIGKILL');
      await until('a new redis-server answers', async () =>
        redis.pid() !== first && (await client.ping()) === 'PONG' ? true : undefined,
      );
      expect(await client.get('k')).toBeNull();
    } finally {
      client.disconnect();
      await redis.close();
    }
    expect(existsSync(redis.dir)).toBe(false);
  });
});
