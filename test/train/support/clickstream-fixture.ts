/**
 * Clickstream archive files for training tests, written with DuckDB's COPY in the archive's layout and column
 * shape: the fields of every clickstream record type (Carousel with its items, Click, Conversion, Watch), then
 * `_schema`, `_schema_id`, `_partition`, `_offset`, `_timestamp`, `_key`.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';

export interface FixtureItem {
  itemId: string;
  slot: number;
  score: number | null;
  propensity: number;
  features: number[] | null;
  /** The shadow policy's probability of this item in this slot (absent: no shadow). */
  shadowPropensity?: number | null;
}

export interface FixtureCarousel {
  type: 'Carousel';
  eventId: string;
  requestId: string;
  userId: string;
  timestamp: number;
  modelVersion?: string;
  /** The shadow that ran beside the serving policy (absent: none). */
  shadowPolicy?: string;
  featureSpecHash: string;
  items: FixtureItem[];
}

export interface FixtureOutcome {
  type: 'Click' | 'Conversion' | 'Watch';
  eventId: string;
  requestId: string;
  userId: string;
  itemId: string;
  timestamp: number;
  value?: number;
  watchTimeMs?: number;
}

export type FixtureRecord = FixtureCarousel | FixtureOutcome;

const COLUMNS = `
  eventId VARCHAR, requestId VARCHAR, userId VARCHAR, itemId VARCHAR, slot INTEGER, policy VARCHAR,
  modelVersion VARCHAR, propensity DOUBLE, score DOUBLE, experiment VARCHAR, variant VARCHAR, segment VARCHAR,
  context STRUCT(device VARCHAR, country VARCHAR, page VARCHAR), "timestamp" TIMESTAMPTZ,
  shadowPolicy VARCHAR, shadowSlot INTEGER, shadowPropensity DOUBLE, value DOUBLE, watchTimeMs BIGINT,
  featureSpecHash VARCHAR,
  items STRUCT(itemId VARCHAR, slot INTEGER, score DOUBLE, propensity DOUBLE, shadowSlot INTEGER,
               shadowPropensity DOUBLE, features FLOAT[])[],
  _schema VARCHAR, _schema_id INTEGER, _partition INTEGER, _offset BIGINT, _timestamp TIMESTAMPTZ, _key BLOB`;

const str = (v: string | null | undefined) => (v == null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);
const numOrNull = (v: number | null | undefined) => (v == null ? 'NULL' : String(v));
const ts = (ms: number) => `make_timestamptz(${ms}::BIGINT * 1000)`;

function itemLiteral(item: FixtureItem): string {
  const features = item.features === null ? 'NULL' : `[${item.features.join(', ')}]::FLOAT[]`;
  return `{'itemId': ${str(item.itemId)}, 'slot': ${item.slot}, 'score': ${numOrNull(item.score)}, 'propensity': ${item.propensity}, 'shadowSlot': NULL, 'shadowPropensity': ${numOrNull(item.shadowPropensity)}, 'features': ${features}}`;
}

function rowLiteral(record: FixtureRecord, partition: number, offset: number): string {
  const schema = `'croupier.events.${record.type}'`;
  const common = `${str(record.eventId)}, ${str(record.requestId)}, ${str(record.userId)}`;
  if (record.type === 'Carousel') {
    const items = `[${record.items.map(itemLiteral).join(', ')}]`;
    return `(${common}, NULL, NULL, 'thompson', ${str(record.modelVersion ?? 'default-1')}, NULL, NULL, NULL, NULL, NULL,
      {'device': 'mobile', 'country': NULL, 'page': NULL}, ${ts(record.timestamp)}, ${str(record.shadowPolicy)}, NULL, NULL, NULL, NULL,
      ${str(record.featureSpecHash)}, ${items}, ${schema}, 1, ${partition}, ${offset}, ${ts(record.timestamp)}, NULL)`;
  }
  return `(${common}, ${str(record.itemId)}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ${ts(record.timestamp)},
    NULL, NULL, NULL, ${numOrNull(record.value)}, ${numOrNull(record.watchTimeMs)}, NULL, NULL, ${schema}, 2,
    ${partition}, ${offset}, ${ts(record.timestamp)}, NULL)`;
}

/**
 * Writes `records` as one committed archive file of `partition` starting at `startOffset`, in the hour of the
 * first record; returns its path relative to `root`.
 */
export async function writeClickstreamFile(
  duckdb: DuckDBInstance,
  root: string,
  partition: number,
  startOffset: number,
  records: readonly FixtureRecord[],
): Promise<string> {
  const iso = new Date(records[0].timestamp).toISOString();
  const dir = `clickstream/date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
  const end = startOffset + records.length - 1;
  const pad = (n: number) => String(n).padStart(19, '0');
  const relative = `${dir}/clickstream+${partition}+${pad(startOffset)}+${pad(end)}.parquet`;
  await mkdir(path.join(root, dir), { recursive: true });
  const connection = await duckdb.connect();
  try {
    const table = `fixture_${partition}_${startOffset}`;
    await connection.run(`CREATE OR REPLACE TEMP TABLE ${table} (${COLUMNS})`);
    const values = records.map((r, i) => rowLiteral(r, partition, startOffset + i));
    for (let i = 0; i < values.length; i += 500) {
      await connection.run(`INSERT INTO ${table} VALUES ${values.slice(i, i + 500).join(',\n')}`);
    }
    await connection.run(
      `COPY (SELECT * FROM ${table} ORDER BY _offset) TO ${str(path.join(root, relative))} (FORMAT parquet, COMPRESSION zstd)`,
    );
    await connection.run(`DROP TABLE ${table}`);
  } finally {
    connection.closeSync();
  }
  return relative;
}
