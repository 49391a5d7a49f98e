/**
 * A damaged lineage file (`<version>.lineage.json`): cut short, emptied, not an object, or holding a metric written
 * as null (JSON's NaN). `croupier models promote` and `models show` threw a SyntaxError or a TypeError with a
 * stack trace; they now refuse it naming the file and the field, and nothing is promoted.
 */
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../src/errors/index.ts';
import { readLineage } from '../../src/models/registry-writer.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { readManifest } from '../../src/scoring/model-registry.ts';
import { tempRegistry, writeManifest, writeModel } from '../decision/support.ts';

const spec = await loadFeatureSpec('models/feature-spec.json');
const run = promisify(execFile);

/** The parts of a lineage the gate and `models show` read, as croupier train writes them. */
const LINEAGE = {
  version: 'b',
  kind: 'lr',
  created: '2026-12-08T00:00:00.000Z',
  codeVersion: 'croupier@0.1.0',
  seed: 1,
  hyperParameters: { l2: 1e-4 },
  featureSpec: { file: 'feature-spec.json', hash: spec.hash, width: spec.width },
  archive: { location: '/archive', files: [], offsetRanges: [{ partition: 0, start: 0, end: 99 }] },
  window: {
    from: '2026-12-07T00:00:00.000Z',
    to: '2026-12-08T00:00:00.000Z',
    holdoutStart: '2026-12-07T20:00:00.000Z',
    attributionWindowSeconds: 1800,
  },
  rows: { rows: 100, fit: 60, validation: 20, holdout: 20 },
  parity: { passed: true, rows: 20, maxAbsDiff: 1e-7, tolerance: 1e-5 },
  gateEvidence: {
    parityPassed: true,
    candidateLogLoss: 0.3,
    comparedWith: 'a',
    activeLogLoss: 0.4,
    aucDifference: { difference: 0.01, ci: [-0.01, 0.03], confidence: 0.95 },
  },
};

const withEvidence = (changes: Record<string, unknown>) =>
  JSON.stringify({ ...LINEAGE, gateEvidence: { ...LINEAGE.gateEvidence, ...changes } });

let dir: string;
beforeEach(async () => {
  dir = await tempRegistry();
  const models = [await writeModel(dir, spec, 'a', 0, -2), await writeModel(dir, spec, 'b', 0.01, -2)];
  await writeManifest(dir, { active: 'a', models });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const writeLineage = (text: string) => writeFile(join(dir, 'b.lineage.json'), text);

async function refusal(): Promise<string> {
  try {
    await readLineage(dir, 'b');
  } catch (error) {
    if (hasCode(error, 'CROUPIER_ERR_MODEL_REGISTRY_INVALID')) return error.message;
    throw error;
  }
  throw new Error('not refused');
}

describe('lineage files', () => {
  it('are read whole, and refused naming the file and the field when damaged', async () => {
    await writeLineage(JSON.stringify(LINEAGE));
    expect((await readLineage(dir, 'b'))?.gateEvidence.candidateLogLoss).toBe(0.3);
    const damaged: [string, RegExp][] = [
      [JSON.stringify(LINEAGE).slice(0, 40), /b\.lineage\.json is not valid JSON/],
      ['{}', /b\.lineage\.json version: Required/],
      ['[]', /b\.lineage\.json \(root\): Expected object/],
      [
        withEvidence({ candidateLogLoss: null }),
        /gateEvidence\.candidateLogLoss: Expected number, received null/,
      ],
      [withEvidence({ aucDifference: { difference: 0, ci: [null, null], confidence: 0.95 } }), /ci\.0/],
      [withEvidence({ parityPassed: 'yes' }), /gateEvidence\.parityPassed: Expected boolean/],
    ];
    for (const [text, problem] of damaged) {
      await writeLineage(text);
      expect(await refusal()).toMatch(problem);
    }
  });

  it('croupier models promote and show refuse a damaged one with exit code 2 and no stack trace', async () => {
    await writeLineage(withEvidence({ candidateLogLoss: null }));
    const set = ['--set', `model.registryDir=${dir}`, '--set', `archive.uri=${join(dir, 'no-archive')}`];
    for (const command of [
      ['models', 'promote', 'b'],
      ['models', 'show', 'b'],
    ]) {
      const failed = await run(process.execPath, ['bin/croupier.js', ...command, ...set], {
        timeout: 60_000,
      }).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.stderr).toMatch(/CROUPIER_ERR_MODEL_REGISTRY_INVALID: .*b\.lineage\.json gateEvidence/);
      expect(failed?.stderr).not.toMatch(/^\s+at /m);
      expect(failed?.code).toBe(2);
    }
    expect((await readManifest(dir)).active).toBe('a');
  });
});
