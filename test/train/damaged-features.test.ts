/**
 * `croupier train` on an archive where one carousel in seven logged a feature of NaN, 1e308 (beyond float32, so
 * Infinity) or -Infinity, as a producer other than the gateway may write them. One such row made the logistic regression's
 * system NaN, refused as "singular: set train.l2 above 0", so no model could be trained on any window holding it.
 * The rows are now skipped and counted, and the rest trained on.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ArchiveRecord } from '../../src/archive/format/rows.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { clickstreamRecord, writeClickstreamArchive } from '../support/clickstream-archive.ts';
import { SAMPLE_EVENTS } from '../support/sample-events.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'croupier-train-damaged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { width, hash } = await loadFeatureSpec('models/feature-spec.json');
const CAROUSELS = 1400;
const DAMAGES = [Number.NaN, 1e308, Number.NEGATIVE_INFINITY];

/** Three shown items per carousel with seeded features, a click on slot 0 of every fifth. */
function records(): ArchiveRecord[] {
  const out: ArchiveRecord[] = [];
  const t0 = SAMPLE_EVENTS.Carousel.timestamp;
  for (let i = 0; i < CAROUSELS; i++) {
    const damaged = i % 7 === 0;
    const row = (s: number) =>
      Array.from({ length: width }, (_, k) =>
        damaged && s === 0 && k === 0 ? DAMAGES[(i / 7) % 3] : ((i * 31 + k * 7 + s) % 11) / 10,
      );
    const items = [0, 1, 2].map((s) => ({
      ...SAMPLE_EVENTS.Carousel.items[0],
      itemId: `i-${(i + s) % 20}`,
      slot: s,
      features: row(s),
    }));
    const t = t0 + i * 1000;
    const carousel = { ...SAMPLE_EVENTS.Carousel, eventId: `c${i}`, requestId: `r${i}`, timestamp: t };
    out.push(clickstreamRecord(out.length, t, 'Carousel', { ...carousel, featureSpecHash: hash, items }));
    if (i % 5 === 0) {
      const click = { ...SAMPLE_EVENTS.Click, eventId: `e${i}`, requestId: `r${i}`, itemId: items[0].itemId };
      out.push(clickstreamRecord(out.length, t + 10, 'Click', { ...click, timestamp: t + 10 }));
    }
  }
  return out;
}

describe('croupier train on damaged feature rows', () => {
  it('skips and counts them, and trains on the rest', async () => {
    const archive = join(dir, 'archive');
    await writeClickstreamArchive(archive, records());
    const set = ['--set', `model.registryDir=${join(dir, 'models')}`, '--set', `archive.uri=${archive}`];
    const { stdout } = await run(
      process.execPath,
      ['bin/croupier.js', 'train', '--archive', archive, '--json', ...set],
      { timeout: 120_000 },
    );
    const report = JSON.parse(stdout);
    const damaged = Math.ceil(CAROUSELS / 7);
    expect(report.rows).toMatchObject({ shown: 3 * CAROUSELS, badFeatures: damaged, withoutFeatures: 0 });
    expect(report.rows.rows).toBe(3 * CAROUSELS - damaged);
    expect(report.parity.passed).toBe(true);
  }, 150_000);
});
