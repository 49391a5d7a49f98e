import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { hasCode } from '../../src/errors/index.ts';
import { openArchiveInput } from '../../src/train/archive-input.ts';
import { buildTrainingSet, TRAINING_SET_SQL, type TrainingSetOptions } from '../../src/train/training-set.ts';
import { type FixtureRecord, writeClickstreamFile } from './support/clickstream-fixture.ts';

const SPEC = `sha256:${'a'.repeat(64)}`;
const OTHER_SPEC = `sha256:${'b'.repeat(64)}`;
const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const MIN = 60_000;

const item = (itemId: string, slot: number, features: number[] | null = [slot, 1, 2]) => ({
  itemId,
  slot,
  score: 0.1,
  propensity: 0.5,
  features,
});

/**
 * Ten carousels one minute apart (r0…r9), three items each; clicks, a conversion and a watch on some of them,
 * a click outside the attribution window, a duplicate delivery, rows without features and of another spec.
 */
function partitionZero(): FixtureRecord[] {
  const records: FixtureRecord[] = [];
  for (let i = 0; i < 10; i++) {
    records.push({
      type: 'Carousel',
      eventId: `c${i}`,
      requestId: `r${i}`,
      userId: 'u1',
      timestamp: T0 + i * MIN,
      featureSpecHash: SPEC,
      items: [item(`a${i}`, 0), item(`b${i}`, 1), item(`c${i}`, 2, i === 3 ? null : [2, 1, 2])],
    });
  }
  const click = (n: number, requestId: string, itemId: string, at: number): FixtureRecord => ({
    type: 'Click',
    eventId: `k${n}`,
    requestId,
    userId: 'u1',
    itemId,
    timestamp: at,
  });
  records.push(click(1, 'r0', 'b0', T0 + 5_000));
  records.push(click(1, 'r0', 'b0', T0 + 5_000)); // the same event delivered twice
  records.push(click(2, 'r0', 'b0', T0 + 6_000)); // a second click on the same item: one label
  records.push(click(3, 'r1', 'a1', T0 + MIN + 31 * MIN)); // after the 30-minute window: no label
  records.push(click(4, 'r9', 'c9', T0 + 9 * MIN + 1_000));
  records.push(click(5, 'r7', 'zz', T0 + 7 * MIN + 1_000)); // an item the carousel did not show
  records.push({
    type: 'Conversion',
    eventId: 'v1',
    requestId: 'r0',
    userId: 'u1',
    itemId: 'b0',
    timestamp: T0 + 60_000,
    value: 9.5,
  });
  records.push({
    type: 'Watch',
    eventId: 'w1',
    requestId: 'r0',
    userId: 'u1',
    itemId: 'b0',
    timestamp: T0 + 70_000,
    watchTimeMs: 1234,
  });
  return records.sort((a, b) => a.timestamp - b.timestamp);
}

describe('the training-set query over the archive', () => {
  let root: string;
  let files: string[];
  let duckdb: DuckDBInstance;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'croupier-train-'));
    duckdb = await DuckDBInstance.create(':memory:');
    const p0 = partitionZero();
    await writeClickstreamFile(duckdb, root, 0, 0, p0.slice(0, 9));
    await writeClickstreamFile(duckdb, root, 0, 9, p0.slice(9));
    // Partition 1: a duplicate delivery of r2 (same requestId and items) and a carousel of another spec.
    await writeClickstreamFile(duckdb, root, 1, 100, [
      {
        type: 'Carousel',
        eventId: 'c2',
        requestId: 'r2',
        userId: 'u1',
        timestamp: T0 + 2 * MIN + 10,
        featureSpecHash: SPEC,
        items: [item('a2', 0), item('b2', 1), item('c2', 2)],
      },
      {
        type: 'Carousel',
        eventId: 'x1',
        requestId: 'rx',
        userId: 'u2',
        timestamp: T0 + 4 * MIN,
        featureSpecHash: OTHER_SPEC,
        items: [item('a', 0), item('b', 1)],
      },
    ]);
    const input = await openArchiveInput(createLocalFileSystem(root), {
      fromMs: null,
      toMs: null,
      attributionWindowMs: 1_800_000,
    });
    files = input.localPaths;
  });

  afterAll(async () => {
    duckdb.closeSync();
    await rm(root, { recursive: true, force: true });
  });

  const options = (over: Partial<TrainingSetOptions> = {}): TrainingSetOptions => ({
    files,
    fromMs: null,
    toMs: null,
    attributionWindowSeconds: 1800,
    holdoutFraction: 0.2,
    featureSpecHash: SPEC,
    width: 3,
    memoryLimit: '256MB',
    tempDir: '',
    ...over,
  });

  it('labels each shown item by its clicks within the attribution window, counting duplicates once', async () => {
    const set = await buildTrainingSet(options());
    expect(set.counts).toMatchObject({
      shown: 32, // 30 of partition 0 (duplicate r2 counted once) + 2 of the other spec
      withoutFeatures: 1,
      otherSpec: 2,
      rows: 29,
      clicks: 2,
      conversions: 1,
      carousels: 10,
    });
    const labelled = set.itemIds.filter((_, i) => set.labels[i] === 1);
    expect(labelled.sort()).toEqual(['b0', 'c9']);
    const a1 = set.itemIds.indexOf('a1');
    expect(set.labels[a1]).toBe(0);
  });

  it('keeps the feature rows as logged, in order, with their slots', async () => {
    const set = await buildTrainingSet(options());
    const b0 = set.itemIds.indexOf('b0');
    expect(Array.from(set.features.subarray(b0 * 3, b0 * 3 + 3))).toEqual([1, 1, 2]);
    expect(set.slots[b0]).toBe(1);
    for (let i = 1; i < set.rows; i++) expect(set.shownAtMs[i]).toBeGreaterThanOrEqual(set.shownAtMs[i - 1]);
  });

  it('holds out the last 20 % of the window by time', async () => {
    const set = await buildTrainingSet(options());
    expect(set.window.fromMs).toBe(T0);
    expect(set.window.toMs).toBe(T0 + 9 * MIN + 1);
    const cut = set.window.holdoutStartMs;
    expect(cut).toBe(Math.floor(set.window.toMs - 0.2 * (set.window.toMs - T0)));
    for (let i = 0; i < set.rows; i++) expect(set.holdout[i]).toBe(set.shownAtMs[i] >= cut ? 1 : 0);
    expect(set.counts.holdout).toBe(6); // r8 and r9
    expect(set.counts.train + set.counts.holdout).toBe(set.rows);
  });

  it('reads only the carousels of the given window', async () => {
    const set = await buildTrainingSet(options({ fromMs: T0 + 2 * MIN, toMs: T0 + 5 * MIN }));
    expect(new Set(set.requestIds)).toEqual(new Set(['r2', 'r3', 'r4']));
    expect(set.carouselOffsets.map((r) => r.partition)).toEqual([0]);
  });

  it('holds out the last 20 % of the data when the window reaches back before the archive begins', async () => {
    const set = await buildTrainingSet(options({ fromMs: T0 - 7 * 86_400_000, toMs: T0 + 60 * MIN }));
    expect(set.window.fromMs).toBe(T0);
    expect(set.window.toMs).toBe(T0 + 9 * MIN + 1);
    expect(set.counts.holdout).toBe(6);
  });

  it('honours a shorter attribution window', async () => {
    const set = await buildTrainingSet(options({ attributionWindowSeconds: 4 }));
    expect(set.counts.clicks).toBe(1); // b0 at +5 s falls out; c9 at +1 s stays
  });

  it('refuses a window with no trainable row, saying why', async () => {
    const error = await buildTrainingSet(options({ featureSpecHash: `sha256:${'c'.repeat(64)}` })).catch(
      (e: unknown) => e,
    );
    expect(hasCode(error, 'CROUPIER_ERR_TRAIN_NO_DATA')).toBe(true);
    expect(String(error)).toMatch(/scored under another feature spec/);
  });

  it('is one query with no engine-specific syntax (Spark SQL runs it unchanged)', () => {
    const code = TRAINING_SET_SQL.replace(/--.*$/gm, '');
    expect(code).not.toMatch(/\bunnest\b|\bQUALIFY\b|epoch_ms|::|read_parquet|\bINTERVAL\b/i);
    expect(code).toMatch(/explode\(c\.items\)/);
  });
});
