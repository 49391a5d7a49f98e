/**
 * Candidate sets through the archive: Carousel records with and without their candidate set (and a click)
 * written as the archive writes Parquet, then read back by the shadow test's archive input, which must hand the
 * candidate set over intact and read the record without one as such.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { carouselsFromArchive } from '../../src/train/shadow-input.ts';
import type { CandidateSet, SchemaName } from '../../streams/schemas/index.ts';
import { clickstreamRecord, writeClickstreamArchive } from '../support/clickstream-archive.ts';
import { SAMPLE_EVENTS } from '../support/sample-events.ts';
import { candidateSet } from './support/logged-carousels.ts';

const root = mkdtempSync(path.join(tmpdir(), 'croupier-shadow-archive-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0 = SAMPLE_EVENTS.Carousel.timestamp;

const record = (offset: number, name: SchemaName, value: unknown) =>
  clickstreamRecord(offset, T0 + offset, name, value);

const SET: CandidateSet = candidateSet({
  itemIds: ['i-3', 'i-7', 'i-9'],
  scores: [0.5, 0.25, 0.125],
  impressions: [120, 40.5, 0],
  clicks: [6, 1, 0],
});

describe('candidate sets in the archive', () => {
  it('are read back intact, and a carousel logged without one reads as such', async () => {
    const carousel = SAMPLE_EVENTS.Carousel;
    const records = [
      record(0, 'Carousel', { ...carousel, requestId: 'with', candidates: SET }),
      record(1, 'Click', { ...SAMPLE_EVENTS.Click, requestId: 'with', itemId: 'i-7' }),
      record(2, 'Carousel', { ...carousel, requestId: 'without', candidates: null }),
    ];
    await writeClickstreamArchive(root, records);
    const carousels = await carouselsFromArchive(createLocalFileSystem(root), {
      fromMs: null,
      toMs: null,
      attributionWindowMs: 3_600_000,
      memoryLimit: '256MB',
      tempDir: '',
    });
    const byId = Object.fromEntries(carousels.map((c) => [c.requestId, c]));
    expect(byId.with.candidates).toEqual(SET);
    expect(byId.with.clicks).toEqual([0, 1]);
    expect(byId.with.items.map((i) => i.propensity)).toEqual([0.5, 0.125]);
    expect(byId.without.candidates).toBeNull();
  });
});
