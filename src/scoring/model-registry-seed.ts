/**
 * Seeding a model registry. The registry a running croupier writes to (`model.registryDir`, `./data/models` by
 * default) is never the `models/` directory shipped with the code: retraining adds versions and flips the active
 * one, and those writes belong to the installation, not to the source tree. A registry directory that does not
 * exist yet, or exists empty, is created as a copy of the shipped registry (its manifest and the files its
 * entries name), so a fresh installation starts serving `default-1`.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The registry shipped with the code (`models/` at the package root). */
export const SHIPPED_REGISTRY_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

const MANIFEST = 'manifest.json';

async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The files a registry's manifest names: the manifest, each model file and each feature spec. */
async function registryFiles(dir: string): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as {
    models?: { file?: unknown; featureSpec?: unknown }[];
  };
  const files = new Set<string>([MANIFEST]);
  for (const model of manifest.models ?? []) {
    for (const name of [model.file, model.featureSpec]) {
      if (typeof name === 'string' && basename(name) === name) files.add(name);
    }
  }
  return [...files];
}

/**
 * Creates `dir` as a copy of `seedDir` when `dir` does not exist or is empty; leaves any other directory as it
 * is (a directory with files but no manifest is reported by the manifest reader). The copy is assembled in a
 * sibling temporary directory and renamed into place, so two processes seeding at once leave one whole
 * registry. Returns whether it seeded.
 */
export async function seedModelRegistry(dir: string, seedDir = SHIPPED_REGISTRY_DIR): Promise<boolean> {
  const target = resolve(dir);
  if (target === resolve(seedDir)) return false;
  const existing = await entriesOf(target);
  if (existing !== undefined && existing.length > 0) return false;
  const files = await registryFiles(seedDir);
  await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.seed-`));
  try {
    for (const file of files) await copyFile(join(seedDir, file), join(staging, file));
    try {
      await rename(staging, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      return false; // another process seeded it first
    }
    return true;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
