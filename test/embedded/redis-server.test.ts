import { spawn } from 'node:child_process';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster } from '../../src/embedded/redis-cluster.ts';
import { startRedisServer } from '../../src/embedded/redis-server.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

describe('redis-server harness', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('starts its own server on a free port, not the shared 6379', async () => {
    expect(redis.server.port).not.toBe(6379);
    const key = `${redis.prefix()}k`;
    await redis.client.set(key, 'v');
    expect(await redis.client.get(key)).toBe('v');
  });

  it('refuses to report a server that cannot start', async () => {
    await expect(startRedisServer({ port: redis.server.port, startTimeoutMs: 2000 })).rejects.toMatchObject({
      code: 'CROUPIER_ERR_REDIS_START',
    });
    await expect(startRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrow(/cannot run/);
  });

  it('does not outlive the process that started it, even one killed with SIGKILL', async () => {
    // A process that starts a server with append-only persistence (as croupier start does) and is then killed.
    const code = `const { startRedisServer } = await import('./src/embedded/redis-server.ts');
      const s = await startRedisServer({ appendOnly: true });
      process.stdout.write(JSON.stringify({ pid: s.pid, port: s.port }) + '\\n');
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = await new Promise<{ pid: number; port: number }>((resolve, reject) => {
      parent.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString())));
      parent.once('exit', (c) => reject(new Error(`the parent exited with ${c}`)));
    });
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(started.pid)).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (alive(started.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(started.pid)).toBe(false);
  }, 30_000);

  it('builds a three-master cluster that serves every slot', async () => {
    const cluster = await startRedisCluster(3);
    try {
      const client = new Cluster(
        cluster.seeds.map((s) => ({ host: s.split(':')[0], port: Number(s.split(':')[1]) })),
      );
      for (let i = 0; i < 30; i++) await client.set(`k${i}`, String(i));
      expect(await client.get('k17')).toBe('17');
      const masters = client.nodes('master');
      expect(masters.length).toBe(3);
      client.disconnect();
    } finally {
      await cluster.close();
    }
  });
});
