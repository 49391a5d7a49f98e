/**
 * Flips of the model registry from several places at once (`croupier models promote`/`rollback`, `croupier train
 * --promote`, the watch job): each reads manifest.json and history.json and writes them back, so two at once
 * must not lose one's write. An attack pass ran four `models promote --force`/`rollback` loops and two `train`
 * loops as processes on one registry: 90 flips succeeded and history.json gained 89 events, one recorded as from
 * a model that was no longer active.
 */
import { spawnSync } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, promoteVersion, readHistory, rollbackActive } from '../../src/models/registry-writer.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { readManifest } from '../../src/scoring/model-registry.ts';
import { tempRegistry, writeManifest, writeModel } from '../decision/support.ts';

const spec = await loadFeatureSpec('models/feature-spec.json');
const VERSIONS = ['a', 'b', 'c'];

describe('flips of the model registry at once', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempRegistry();
    const models = [];
    for (const [i, v] of VERSIONS.entries()) models.push(await writeModel(dir, spec, v, 0, i - 1));
    await writeManifest(dir, { active: 'a', models });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records every flip that succeeded, each from the model active when it was made', async () => {
    const flips = Array.from({ length: 30 }, (_, i) =>
      i % 5 === 4
        ? rollbackActive(dir, `rollback ${i}`)
        : promoteVersion(dir, VERSIONS[(i % 2) + 1 - (i % 3 === 0 ? 1 : 0)], `flip ${i}`),
    );
    const outcomes = await Promise.allSettled(flips);
    const made = outcomes.filter((o) => o.status === 'fulfilled').length;
    const history = await readHistory(dir);
    expect(made).toBeGreaterThan(1);
    expect(history).toHaveLength(made);
    let active = 'a';
    for (const event of history) {
      expect(event.from).toBe(active);
      active = event.to;
    }
    expect((await readManifest(dir)).active).toBe(active);
  });

  it('takes over a lock left by a process that is gone, and leaves no lock behind', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(join(dir, LOCK_FILE), `${gone} ${Date.now()}`);
    await promoteVersion(dir, 'b', 'after a crash');
    expect((await readManifest(dir)).active).toBe('b');
    expect((await readdir(dir)).filter((f) => f.startsWith(LOCK_FILE))).toEqual([]);
  });
});
