/**
 * Reading an archive file back (a local copy): its offsets, row count and metadata for `verify` and `ls`,
 * and its rows for `compact`. Parquet through DuckDB, Avro through avsc's container decoder.
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import avro from 'avsc';
import { sqlString } from './columns.ts';

export interface FileFacts {
  rows: number;
  minOffset: number;
  maxOffset: number;
  distinctOffsets: number;
  /** Offsets strictly increase row after row. */
  ordered: boolean;
  metadata: Record<string, string>;
}

export async function readParquetFacts(duckdb: DuckDBInstance, localPath: string): Promise<FileFacts> {
  const c = await duckdb.connect();
  try {
    const p = sqlString(localPath);
    const [row] = (
      await c.runAndReadAll(
        `SELECT count(*)::DOUBLE AS n, coalesce(min(_offset), -1)::DOUBLE AS lo, coalesce(max(_offset), -1)::DOUBLE AS hi, count(DISTINCT _offset)::DOUBLE AS d,
           coalesce(bool_and(_offset > prev), true) AS ordered
         FROM (SELECT _offset, lag(_offset, 1, -1) OVER () AS prev FROM read_parquet(${p}))`,
      )
    ).getRowObjectsJS() as { n: number; lo: number; hi: number; d: number; ordered: boolean }[];
    const kv = (
      await c.runAndReadAll(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${p})`)
    ).getRowObjectsJS() as {
      k: string;
      v: string;
    }[];
    return {
      rows: row.n,
      minOffset: row.lo,
      maxOffset: row.hi,
      distinctOffsets: row.d,
      ordered: row.ordered,
      metadata: Object.fromEntries(kv.map((e) => [e.k, e.v])),
    };
  } finally {
    c.closeSync();
  }
}

export interface AvroFileContent {
  schemaText: string;
  metadata: Record<string, string>;
  /** Rows, still encoded. */
  rows: Buffer[];
  offsets: number[];
}

export function readAvroFile(localPath: string): Promise<AvroFileContent> {
  return new Promise((resolve, reject) => {
    let type: avro.Type | undefined;
    const metadata: Record<string, string> = {};
    let schemaText = '';
    const rows: Buffer[] = [];
    const offsets: number[] = [];
    avro
      .createFileDecoder(localPath, { noDecode: true } as never)
      .on('metadata', (t: avro.Type, _codec: string, header: { meta: Record<string, Buffer> }) => {
        type = t;
        for (const [k, v] of Object.entries(header.meta)) metadata[k] = v.toString();
        schemaText = metadata['avro.schema'];
      })
      .on('data', (row: Buffer) => {
        rows.push(row);
        offsets.push((type!.fromBuffer(row) as { _offset: number })._offset);
      })
      .on('error', reject)
      .on('end', () => resolve({ schemaText, metadata, rows, offsets }));
  });
}

export async function readAvroFacts(localPath: string): Promise<FileFacts> {
  const { metadata, offsets } = await readAvroFile(localPath);
  let ordered = true;
  for (let i = 1; i < offsets.length; i++) if (offsets[i] <= offsets[i - 1]) ordered = false;
  return {
    rows: offsets.length,
    minOffset: offsets.reduce((m, o) => Math.min(m, o), offsets.length ? Number.MAX_SAFE_INTEGER : -1),
    maxOffset: offsets.reduce((m, o) => Math.max(m, o), -1),
    distinctOffsets: new Set(offsets).size,
    ordered,
    metadata,
  };
}

export function readFileFacts(
  duckdb: DuckDBInstance,
  localPath: string,
  format: 'parquet' | 'avro',
): Promise<FileFacts> {
  return format === 'avro' ? readAvroFacts(localPath) : readParquetFacts(duckdb, localPath);
}
