/**
 * Live click-through from the archive: runs `live-ctr.sql` with DuckDB over the clickstream files of the
 * windows asked for and returns, per side, what its model version dealt there (carousels, clicked carousels,
 * shown items, clicks). The post-promotion watch reads it.
 */
import { readFileSync } from 'node:fs';
import type { ArchiveFileSystem } from '../archive/fs/archive-fs.ts';
import type { ModelCounts } from '../models/watch.ts';
import { queryArchive } from './archive-query.ts';
import { sqlString } from './training-set.ts';

export const LIVE_CTR_SQL = readFileSync(new URL('./live-ctr.sql', import.meta.url), 'utf8');

export interface CountedSide {
  side: string;
  version: string;
  fromMs: number;
  toMs: number;
}

export interface LiveCtrOptions {
  archive: ArchiveFileSystem;
  sides: readonly CountedSide[];
  attributionSeconds: number;
  memoryLimit: string;
  tempDir: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** Counts per side (a side without archived carousels counts zeros). */
export async function countLiveCtr(options: LiveCtrOptions): Promise<Map<string, ModelCounts>> {
  const counts = new Map<string, ModelCounts>();
  for (const s of options.sides) {
    counts.set(s.side, {
      version: s.version,
      from: iso(s.fromMs),
      to: iso(s.toMs),
      carousels: 0,
      clickedCarousels: 0,
      items: 0,
      clicks: 0,
    });
  }
  if (options.sides.length === 0) return counts;
  const window = {
    fromMs: Math.min(...options.sides.map((s) => s.fromMs)),
    toMs: Math.max(...options.sides.map((s) => s.toMs)),
  };
  await queryArchive({ ...options, ...window }, 'the live click-through query', null, async (connection) => {
    const rows = options.sides.map(
      (s) =>
        `(${sqlString(s.side)}, ${sqlString(s.version)}, make_timestamptz(${Math.floor(s.fromMs)}::BIGINT * 1000), make_timestamptz(${Math.floor(s.toMs)}::BIGINT * 1000), ${options.attributionSeconds}::BIGINT)`,
    );
    await connection.run(
      `CREATE TABLE watch_params AS SELECT * FROM (VALUES ${rows.join(', ')})
         AS t(side, model_version, window_start, window_end, attribution_seconds)`,
    );
    const reader = await connection.runAndReadAll(LIVE_CTR_SQL);
    for (const row of reader.getRowObjectsJS() as Record<string, unknown>[]) {
      const side = counts.get(String(row.side));
      if (side === undefined) continue;
      side.carousels = num(row.carousels);
      side.clickedCarousels = num(row.clicked_carousels);
      side.items = num(row.items);
      side.clicks = num(row.clicks);
    }
    return null;
  });
  return counts;
}
