/**
 * `croupier start` whose active model file is not a model (truncated by a full disk, replaced by hand) fails with
 * the model's error and leaves nothing running. Before, the embedded Redis and broker were closed while the stream
 * topology was still starting against them; the topology then retried them for good, the start never returned,
 * and the process hung without saying why.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCroupier } from '../../src/app/start.ts';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/logger.ts';

describe('croupier start with a broken active model file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'croupier-bad-model-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails with the model error instead of hanging', async () => {
    const registryDir = join(dir, 'models');
    cpSync('data/models', registryDir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(registryDir, 'manifest.json'), 'utf8')) as {
      active: string;
      models: { version: string; file: string }[];
    };
    const active = manifest.models.find((m) => m.version === manifest.active);
    expect(active).toBeDefined();
    const file = join(registryDir, active!.file);
    truncateSync(file, Math.floor(readFileSync(file).length / 2));

    const parts = { model: { registryDir }, archive: { enabled: false }, jobs: { enabled: false } };
    const config = parseConfig({ ...parts, gateway: { port: 0 }, demo: { traffic: 'off' } });
    const started = startCroupier({ config, logger: silentLogger() });
    await expect(started).rejects.toThrow(/model/i);
  }, 30_000);
});
