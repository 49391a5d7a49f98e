/**
 * Flips of the model registry from several places at once (`croupier models promote`/`rollback`, `croupier train
 * --promote`, the watch job): each reads manifest.json and history.json and writes them back, so two at once
 * must not lose one's write. An attack pass ran four `models promote --force`/`rollback` loops and two `train`
 * loops as processes on one registry: 90 flips succeeded and history.json gained 89 events, one recorded as from
 * a model that was no longer active. A twelfth pass found that a lock left by a dead process, judged stale by
 * several waiters at once, could be taken by two of them (about 1 round in 10 of the test below).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { access, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LOCK_FILE,
  promoteVersion,
  readHistory,
  rollbackActive,
  withRegistryLock,
} from '../../src/models/registry-writer.ts';
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

  it('gives a lock left by a killed process to one waiter at a time, however many judge it stale at once', async () => {
    const rounds = 40;
    const dirs = await Promise.all(Array.from({ length: rounds }, () => tempRegistry()));
    // A process that takes the lock of every registry and is killed while it holds them.
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { withRegistryLock } from './src/models/registry-writer.ts';
         for (const dir of ${JSON.stringify(dirs)}) void withRegistryLock(dir, () => new Promise(() => {}));
         setInterval(() => {}, 1000);`,
      ],
      { stdio: 'ignore' },
    );
    const held = async (dir: string) =>
      access(join(dir, LOCK_FILE)).then(
        () => true,
        () => false,
      );
    while (!(await Promise.all(dirs.map(held))).every(Boolean)) await new Promise((r) => setTimeout(r, 50));
    const exited = once(holder, 'exit');
    holder.kill('SIGKILL');
    await exited;
    try {
      const mostInside: number[] = [];
      for (const dir of dirs) {
        let inside = 0;
        let most = 0;
        await Promise.all(
          Array.from({ length: 20 }, () =>
            withRegistryLock(dir, async () => {
              inside += 1;
              most = Math.max(most, inside);
              await new Promise((r) => setTimeout(r, 2));
              inside -= 1;
            }),
          ),
        );
        mostInside.push(most);
      }
      expect(mostInside).toEqual(Array(rounds).fill(1));
      for (const dir of dirs) expect((await readdir(dir)).filter((f) => f.startsWith(LOCK_FILE))).toEqual([]);
    } finally {
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    }
  }, 60_000);

  it('removes the staging directory of a flip killed while it waited for the lock', async () => {
    let release = () => {};
    const held = withRegistryLock(dir, () => new Promise<void>((r) => (release = r)));
    const staged = async () => (await readdir(dir)).filter((f) => f.startsWith(`${LOCK_FILE}.`));
    while (!(await readdir(dir)).includes(LOCK_FILE) || (await staged()).length > 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const waiter = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { promoteVersion } from './src/models/registry-writer.ts';
         await promoteVersion(${JSON.stringify(dir)}, 'b', 'never made');`,
      ],
      { stdio: 'ignore' },
    );
    // Its staging directory, with its pid written: it waits for the lock.
    const waiting = async () => {
      for (const name of await staged()) {
        for (const token of await readdir(join(dir, name))) {
          if ((await readFile(join(dir, name, token), 'utf8')) !== '') return true;
        }
      }
      return false;
    };
    while (!(await waiting())) await new Promise((r) => setTimeout(r, 50));
    const exited = once(waiter, 'exit');
    waiter.kill('SIGKILL');
    await exited;
    release();
    await held;
    await promoteVersion(dir, 'c', 'after the killed flip');
    expect((await readManifest(dir)).active).toBe('c');
    expect((await readdir(dir)).filter((f) => f.startsWith(LOCK_FILE))).toEqual([]);
  }, 60_000);
});
