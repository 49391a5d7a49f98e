/**
 * A flip of the model registry on a full disk. A promotion wrote manifest.json and then history.json, each
 * written aside and renamed; when the disk took the manifest but not the history (a twelfth attack pass, the
 * registry's disk full), the promotion failed with the new model already active and no event of it, so a
 * rollback or the post-promotion watch acted on a history that did not say how the model got there. Here the
 * disk's end is a file-size limit (RLIMIT_FSIZE, which Node takes as EFBIG, as on a full disk) on a child
 * process that promotes: the history is past the limit, the manifest within it.
 */
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HISTORY_FILE, type HistoryEvent, readHistory } from '../../src/models/registry-writer.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { MANIFEST_FILE, readManifest } from '../../src/scoring/model-registry.ts';
import { tempRegistry, writeManifest, writeModel } from '../decision/support.ts';
import { runUnderFileSizeLimit } from '../support/file-size-limit.ts';

const spec = await loadFeatureSpec('models/feature-spec.json');
const LIMIT_BLOCKS = 16; // 512-byte blocks: 8 KiB

describe('a flip of the model registry on a full disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempRegistry();
    const models = [];
    for (const [i, v] of ['a', 'b'].entries()) models.push(await writeModel(dir, spec, v, 0, i));
    await writeManifest(dir, { active: 'a', models });
    const events: HistoryEvent[] = Array.from({ length: 80 }, (_, i) => ({
      at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      action: 'promote',
      from: i % 2 === 0 ? 'a' : 'b',
      to: i % 2 === 0 ? 'b' : 'a',
      reason: `flip ${i}`,
    }));
    await writeFile(join(dir, HISTORY_FILE), `${JSON.stringify({ events }, null, 2)}\n`);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('changes neither the manifest nor the history when the disk cannot take both', async () => {
    expect((await stat(join(dir, MANIFEST_FILE))).size).toBeLessThan(LIMIT_BLOCKS * 512);
    expect((await stat(join(dir, HISTORY_FILE))).size).toBeGreaterThan(LIMIT_BLOCKS * 512);
    const code = `
      import { promoteVersion } from './src/models/registry-writer.ts';
      promoteVersion(${JSON.stringify(dir)}, 'b', 'on a full disk').then(
        () => process.stdout.write('promoted'),
        (error) => process.stdout.write(error.code ?? error.message),
      );`;
    const child = runUnderFileSizeLimit(LIMIT_BLOCKS, code);
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout).toBe('EFBIG');
    expect((await readManifest(dir)).active).toBe('a');
    expect(await readHistory(dir)).toHaveLength(80);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp') || f.startsWith('.registry.lock'))).toEqual(
      [],
    );
  });
});
