/** The embedded redis-server of `croupier start` persists to an append-only file in its data directory by default. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedServices } from '../../src/app/embedded.ts';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/logger.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Only Redis is embedded: the broker and the registry are "configured" (and never contacted). */
async function redisSettings(redis: Record<string, unknown>): Promise<Record<string, string>> {
  const config = parseConfig({
    kafka: { brokers: ['127.0.0.1:1'] },
    schemaRegistry: { url: 'http://127.0.0.1:1' },
    redis,
  });
  const services = await startEmbeddedServices(config, silentLogger());
  const client = new Redis(services.endpoints.redisUrl);
  try {
    const [, appendonly] = (await client.config('GET', 'appendonly')) as string[];
    const [, dir] = (await client.config('GET', 'dir')) as string[];
    return { appendonly, dir };
  } finally {
    client.disconnect();
    await services.close();
  }
}

describe('embedded redis-server', () => {
  it('writes an append-only file in the configured data directory by default', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'croupier-embedded-redis-'));
    dirs.push(dataDir);
    expect(await redisSettings({ embedded: { dataDir } })).toEqual({ appendonly: 'yes', dir: dataDir });
    const temporary = await redisSettings({});
    expect(temporary.appendonly).toBe('yes');
  });

  it('keeps nothing when told so', async () => {
    expect((await redisSettings({ embedded: { appendOnly: false } })).appendonly).toBe('no');
  });
});
