/**
 * A flip of the model registry only to a model that can serve. `croupier models promote --force` made active a
 * file ONNX Runtime cannot load, a version whose file is gone and a model that scores NaN, and a rollback went
 * back to a file damaged since: each left a registry whose active model every gateway refuses on reload and
 * whose next `croupier start` fails. Each flip is now refused with why, and the registry is left as it was. A
 * registry directory the user cannot write failed with a bare EACCES and its stack trace; it is named now.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../src/errors/index.ts';
import { promoteVersion, readHistory, rollbackActive } from '../../src/models/registry-writer.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { readManifest } from '../../src/scoring/model-registry.ts';
import { entry, tempRegistry, writeManifest, writeModel } from '../decision/support.ts';

const spec = await loadFeatureSpec('models/feature-spec.json');
const run = promisify(execFile);

let dir: string;
beforeEach(async () => {
  dir = await tempRegistry();
  const models = [
    await writeModel(dir, spec, 'a', 0, -2),
    await writeModel(dir, spec, 'b', 0.01, -2),
    await writeModel(dir, spec, 'nan', 0, Number.NaN),
    entry(spec, 'garbage'),
    entry(spec, 'gone'),
  ];
  await writeFile(join(dir, 'garbage.onnx'), Buffer.alloc(700, 0x5a));
  await writeManifest(dir, { active: 'a', models });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function refusal(flip: Promise<unknown>): Promise<string> {
  try {
    await flip;
  } catch (error) {
    if (hasCode(error, 'CROUPIER_ERR_MODEL_PROMOTION')) return error.message;
    throw error;
  }
  throw new Error('not refused');
}

async function registryFiles(): Promise<string> {
  const manifest = await readFile(join(dir, 'manifest.json'), 'utf8');
  return `${manifest}${JSON.stringify(await readHistory(dir))}`;
}

describe('flips of the model registry', () => {
  it('refuse a promotion to a model that cannot serve and leave the registry as it was', async () => {
    const before = await registryFiles();
    const reasons = {
      garbage: /garbage cannot serve, so a stays active: .*ONNX Runtime cannot load it/,
      gone: /gone cannot serve, so a stays active: .*cannot read the file/,
      nan: /nan cannot serve, so a stays active: .*score NaN for row 0, outside \[0, 1\]/,
    };
    for (const [version, reason] of Object.entries(reasons)) {
      expect(await refusal(promoteVersion(dir, version, 'forced past the gate'))).toMatch(reason);
    }
    expect(await registryFiles()).toBe(before);
    const promoted = await promoteVersion(dir, 'b', 'the gate passed');
    expect(promoted).toMatchObject({ from: 'a', to: 'b' });
    expect((await readManifest(dir)).active).toBe('b');
  });

  it('refuse a rollback to a model damaged since its promotion', async () => {
    await promoteVersion(dir, 'b', 'the gate passed');
    await writeFile(join(dir, 'a.onnx'), (await readFile(join(dir, 'a.onnx'))).subarray(0, 40));
    const before = await registryFiles();
    expect(await refusal(rollbackActive(dir, 'the watch saw a loss'))).toMatch(
      /a cannot serve, so b stays active/,
    );
    expect(await registryFiles()).toBe(before);
  });

  it('croupier models promote --force refuses it with exit code 2 and no stack trace', async () => {
    const args = ['bin/croupier.js', 'models', 'promote', 'garbage', '--force'];
    const set = ['--set', `model.registryDir=${dir}`, '--set', `archive.uri=${join(dir, 'no-archive')}`];
    const failed = await run(process.execPath, [...args, ...set], { timeout: 60_000 }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/CROUPIER_ERR_MODEL_PROMOTION: garbage cannot serve, so a stays active/);
    expect(failed?.stderr).not.toMatch(/^\s+at /m);
    expect((await readManifest(dir)).active).toBe('a');
  });
});

describe('a registry directory croupier cannot write', () => {
  it('refuses a flip naming the directory, with exit code 2 and no stack trace', async () => {
    // Run as an unprivileged user: root writes a directory whatever its mode.
    const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const parent = await mkdtemp(join(tmpdir(), 'croupier-registry-readonly-'));
    const registry = join(parent, 'models');
    await cp(dir, registry, { recursive: true });
    await chmod(parent, 0o755);
    for (const name of await readdir(registry)) await chmod(join(registry, name), 0o644);
    await chmod(registry, 0o555);
    try {
      const args = ['bin/croupier.js', 'models', 'promote', 'b', '--force'];
      const set = ['--set', `model.registryDir=${registry}`, '--set', `archive.uri=${join(parent, 'none')}`];
      const failed = await run(process.execPath, [...args, ...set], { timeout: 60_000, ...user }).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.stderr).toMatch(
        /CROUPIER_ERR_MODEL_REGISTRY_INVALID: model registry .* cannot be written \(EACCES\)/,
      );
      expect(failed?.stderr).not.toMatch(/^\s+at /m);
      expect(failed?.code).toBe(2);
      expect((await readManifest(registry)).active).toBe('a');
    } finally {
      await chmod(registry, 0o755);
      await rm(parent, { recursive: true, force: true });
    }
  });
});
