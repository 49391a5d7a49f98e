/**
 * Logged carousels from the archive: the clickstream's Carousel records in [from, to) with their candidate sets
 * (records written before the field existed read as without one) and the Click, Conversion and Watch records
 * that name them, read with DuckDB from the archive's Parquet files (a local copy when the archive is on HDFS).
 */
import os from 'node:os';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { ArchiveFileSystem } from '../archive/fs/archive-fs.ts';
import type { CandidateSet } from '../domain/candidate-set.ts';
import { isPolicyName, type PolicyName } from '../domain/policy-names.ts';
import { CroupierError } from '../errors/index.ts';
import type { LoggedCarousel } from '../shadow/logged-carousel.ts';
import { openArchiveInput } from './archive-input.ts';

export interface ArchiveWindow {
  fromMs: number | null;
  toMs: number | null;
  /** How long after a carousel its feedback may arrive (ms). */
  attributionWindowMs: number;
  memoryLimit: string;
  tempDir: string;
}

const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function rows(connection: DuckDBConnection, query: string): Promise<Record<string, unknown>[]> {
  try {
    return (await connection.runAndReadAll(query)).getRowObjectsJS() as Record<string, unknown>[];
  } catch (cause) {
    throw new CroupierError(
      'CROUPIER_ERR_SHADOW_INPUT',
      `cannot read the archive's clickstream: ${cause instanceof Error ? cause.message : String(cause)}`,
      {},
      { cause },
    );
  }
}

function candidateSetOf(value: unknown): CandidateSet | null {
  if (value === null || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  const list = (x: unknown) => (Array.isArray(x) ? (x as number[]).map(Number) : []);
  return {
    itemIds: Array.isArray(v.itemIds) ? (v.itemIds as string[]) : [],
    scores: list(v.scores),
    impressions: list(v.impressions),
    clicks: list(v.clicks),
    priorStrength: Number(v.priorStrength),
    temperature: Number(v.temperature),
    temperingImpressions: Number(v.temperingImpressions),
    epsilon: Number(v.epsilon),
    ucbC: Number(v.ucbC),
    shadowModelVersion: (v.shadowModelVersion as string | null) ?? null,
    shadowScores: Array.isArray(v.shadowScores) ? list(v.shadowScores) : null,
  };
}

/** A DuckDB connection with the view `clickstream` over the files (record types united by name). */
async function openClickstream(files: readonly string[], window: ArchiveWindow) {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    await connection.run(
      `SET memory_limit = ${sql(window.memoryLimit)};
       SET temp_directory = ${sql(window.tempDir || os.tmpdir())};
       CREATE VIEW clickstream AS SELECT * FROM read_parquet([${files.map(sql).join(', ')}],
         hive_partitioning = true, union_by_name = true);`,
    );
  } catch (cause) {
    connection.closeSync();
    db.closeSync();
    throw new CroupierError(
      'CROUPIER_ERR_SHADOW_INPUT',
      `cannot open the archive's clickstream files: ${String(cause)}`,
      {},
      { cause },
    );
  }
  return { db, connection };
}

/** The window's carousels in time order, with their outcomes. */
export async function carouselsFromArchive(
  fs: ArchiveFileSystem,
  window: ArchiveWindow,
): Promise<LoggedCarousel[]> {
  const input = await openArchiveInput(fs, {
    fromMs: window.fromMs,
    toMs: window.toMs,
    attributionWindowMs: window.attributionWindowMs,
  });
  try {
    if (input.localPaths.length === 0) return [];
    const { db, connection } = await openClickstream(input.localPaths, window);
    try {
      const columns = new Set(
        (await rows(connection, 'DESCRIBE clickstream')).map((r) => String(r.column_name).toLowerCase()),
      );
      if (!columns.has('items')) return [];
      const bounds = [
        window.fromMs === null ? '' : ` AND timestamp >= make_timestamptz(${window.fromMs}::BIGINT * 1000)`,
        window.toMs === null ? '' : ` AND timestamp < make_timestamptz(${window.toMs}::BIGINT * 1000)`,
      ].join('');
      const carouselRows = await rows(
        connection,
        `SELECT requestId, userId, policy, modelVersion, shadowPolicy, epoch_ms(timestamp)::DOUBLE AS ts, items,
                ${columns.has('candidates') ? 'candidates' : 'NULL AS candidates'}
         FROM clickstream WHERE _schema = ${sql('croupier.events.Carousel')}${bounds} ORDER BY timestamp, _partition, _offset`,
      );
      const out: LoggedCarousel[] = [];
      const byRequest = new Map<string, LoggedCarousel>();
      for (const row of carouselRows) {
        const policy = String(row.policy);
        if (!isPolicyName(policy)) continue;
        const items = (row.items as Record<string, unknown>[]).map((item) => ({
          itemId: String(item.itemId),
          slot: Number(item.slot),
          score: Number(item.score ?? 0),
          propensity: Number(item.propensity),
          shadowPropensity: item.shadowPropensity === null ? null : Number(item.shadowPropensity),
        }));
        const zeros = () => new Array<number>(items.length).fill(0);
        const shadow = row.shadowPolicy === null ? null : String(row.shadowPolicy);
        const carousel: LoggedCarousel = {
          requestId: String(row.requestId),
          userId: String(row.userId),
          timestamp: Number(row.ts),
          policy,
          modelVersion: String(row.modelVersion),
          shadowPolicy: shadow !== null && isPolicyName(shadow) ? (shadow as PolicyName) : null,
          items,
          candidates: candidateSetOf(row.candidates),
          clicks: zeros(),
          conversions: zeros(),
          watchSeconds: zeros(),
        };
        out.push(carousel);
        byRequest.set(carousel.requestId, carousel);
      }
      const feedback = ['Click', 'Conversion', 'Watch'].map((name) => sql(`croupier.events.${name}`));
      const watch = columns.has('watchtimems') ? 'watchTimeMs' : 'NULL AS watchTimeMs';
      for (const row of await rows(
        connection,
        `SELECT _schema, requestId, itemId, ${watch} FROM clickstream WHERE _schema IN (${feedback.join(', ')})`,
      )) {
        const carousel = byRequest.get(String(row.requestId));
        if (carousel === undefined) continue;
        const slot = carousel.items.findIndex((item) => item.itemId === row.itemId);
        if (slot < 0) continue;
        if (row._schema === 'croupier.events.Click') carousel.clicks[slot] = 1;
        else if (row._schema === 'croupier.events.Conversion') carousel.conversions[slot] += 1;
        else carousel.watchSeconds[slot] += Number(row.watchTimeMs ?? 0) / 1000;
      }
      return out;
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  } finally {
    await input.release();
  }
}
