/**
 * A synthetic clickstream archive for training tests: carousels whose items carry feature rows of the real
 * feature spec, clicked with a known probability (a fixed logistic truth over the features plus a position
 * effect), written in the archive's layout with DuckDB.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { FeatureSpec } from '../../../src/scoring/feature-spec.ts';
import { createRng } from '../../../src/stats/rng.ts';
import { type FixtureRecord, writeClickstreamFile } from './clickstream-fixture.ts';

export interface SyntheticArchiveOptions {
  root: string;
  spec: FeatureSpec;
  carousels: number;
  itemsPerCarousel: number;
  startMs: number;
  /** Time between carousels. */
  stepMs: number;
  seed: number;
  partitions?: number;
}

/** One feature row: one-hot groups get one column set, the rest plausible numbers. */
function featureRow(spec: FeatureSpec, rng: ReturnType<typeof createRng>): number[] {
  const row: number[] = [];
  for (const feature of spec.features) {
    if (feature.kind === 'onehot') {
      const width = feature.values.length + (feature.other ? 1 : 0);
      const pick = Math.floor(rng.next() * width);
      for (let i = 0; i < width; i++) row.push(i === pick ? 1 : 0);
    } else if (feature.kind === 'flag') row.push(rng.next() < 0.5 ? 1 : 0);
    else if (feature.kind === 'ctr' || feature.kind === 'value') row.push(0.15 * rng.next());
    else if (feature.kind === 'ctr_logit') row.push(-3 + rng.normal());
    else row.push(Math.abs(rng.normal()) * 2);
  }
  return row.map((v) => Math.fround(v));
}

/** The truth's logit of a row in a slot. */
export function truthLogit(row: readonly number[], slot: number, weights: readonly number[]): number {
  let z = -2.2 - 0.5 * Math.log1p(slot);
  for (let i = 0; i < row.length; i++) z += weights[i] * row[i];
  return z;
}

/** Writes the archive; returns the truth's weights. */
export async function writeSyntheticArchive(options: SyntheticArchiveOptions): Promise<number[]> {
  const rng = createRng(options.seed);
  const weights = options.spec.columns.map(() => rng.normal() * 0.6);
  const partitions = options.partitions ?? 2;
  const byPartition: FixtureRecord[][] = Array.from({ length: partitions }, () => []);
  let click = 0;
  for (let c = 0; c < options.carousels; c++) {
    const at = options.startMs + c * options.stepMs;
    const requestId = `req-${c}`;
    const userId = `user-${c % 97}`;
    const items = Array.from({ length: options.itemsPerCarousel }, (_, slot) => ({
      itemId: `item-${Math.floor(rng.next() * 500)}-${slot}`,
      slot,
      score: 0.05,
      propensity: 0.5,
      features: featureRow(options.spec, rng),
    }));
    const records: FixtureRecord[] = [
      {
        type: 'Carousel',
        eventId: `carousel-${c}`,
        requestId,
        userId,
        timestamp: at,
        featureSpecHash: options.spec.hash,
        items,
      },
    ];
    for (const item of items) {
      const p = 1 / (1 + Math.exp(-truthLogit(item.features, item.slot, weights)));
      if (rng.next() < p) {
        records.push({
          type: 'Click',
          eventId: `click-${click++}`,
          requestId,
          userId,
          itemId: item.itemId,
          timestamp: at + 2_000,
        });
      }
    }
    byPartition[c % partitions].push(...records);
  }
  const duckdb = await DuckDBInstance.create(':memory:');
  try {
    for (let p = 0; p < partitions; p++) {
      const records = byPartition[p];
      // Files of at most one hour each, as the archive writes them.
      let start = 0;
      while (start < records.length) {
        const hour = Math.floor(records[start].timestamp / 3_600_000);
        let end = start;
        while (end < records.length && Math.floor(records[end].timestamp / 3_600_000) === hour) end++;
        await writeClickstreamFile(duckdb, options.root, p, start, records.slice(start, end));
        start = end;
      }
    }
  } finally {
    duckdb.closeSync();
  }
  return weights;
}
