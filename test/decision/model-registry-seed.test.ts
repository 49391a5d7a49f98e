import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { readManifest } from '../../src/scoring/model-registry.ts';
import { SHIPPED_REGISTRY_DIR } from '../../src/scoring/model-registry-seed.ts';

async function digest(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

describe('model registry seeding', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'croupier-registry-seed-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('serves and retrains from ./data/models by default, never from the shipped models/ directory', () => {
    const config = loadConfig({});
    expect(config.model.registryDir).toBe('./data/models');
    expect(join(process.cwd(), config.model.registryDir)).not.toBe(SHIPPED_REGISTRY_DIR.replace(/\/$/, ''));
  });

  it('creates a missing registry as a copy of the shipped one, leaving the shipped files untouched', async () => {
    const dir = join(root, 'data', 'models');
    const before = await digest(join(SHIPPED_REGISTRY_DIR, 'manifest.json'));
    const manifest = await readManifest(dir);
    expect(manifest.active).toBe('default-1');
    expect((await readdir(dir)).sort()).toEqual(['default-1.onnx', 'feature-spec.json', 'manifest.json']);
    for (const file of ['manifest.json', 'default-1.onnx', 'feature-spec.json']) {
      expect(await digest(join(dir, file))).toBe(await digest(join(SHIPPED_REGISTRY_DIR, file)));
    }
    // What retraining writes lands in the copy, not in the shipped registry.
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, models: manifest.models }));
    expect(await digest(join(SHIPPED_REGISTRY_DIR, 'manifest.json'))).toBe(before);
    // No staging directory is left beside it.
    expect(await readdir(join(root, 'data'))).toEqual(['models']);
  });

  it('seeds an empty directory, and one whole registry when many readers race to seed it', async () => {
    const dir = join(root, 'models');
    await mkdir(dir);
    const manifests = await Promise.all(Array.from({ length: 8 }, () => readManifest(dir)));
    expect(new Set(manifests.map((m) => m.active))).toEqual(new Set(['default-1']));
    expect((await readdir(dir)).sort()).toEqual(['default-1.onnx', 'feature-spec.json', 'manifest.json']);
    expect(await readdir(root)).toEqual(['models']);
  });

  it('keeps the reader error for a directory that holds files but no manifest', async () => {
    const dir = join(root, 'models');
    await mkdir(dir);
    await writeFile(join(dir, 'other.onnx'), 'x');
    await expect(readManifest(dir)).rejects.toMatchObject({ code: 'CROUPIER_ERR_MODEL_REGISTRY_INVALID' });
    expect(await readdir(dir)).toEqual(['other.onnx']);
  });
});
