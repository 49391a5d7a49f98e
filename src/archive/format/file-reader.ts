/**
 * Reading an archive file back (a local copy): its offsets, row count and metadata for `verify` and `ls`,
 * and its rows for `compact`. Parquet through DuckDB, Avro through avsc's container decoder.
 */
import { readFile } from 'node:fs/promises';
import type { DuckDBInstance } from '@duckdb/node-api';
import avro from 'avsc';
import { CroupierError } from '../../errors/index.ts';
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

/**
 * The rows of an Avro archive file. The file's container structure is checked first: avsc's decoder reads a file
 * cut short (a full disk, a copy stopped half way) to its last whole block and ends without an error, which would
 * pass the rows after the cut off as never written. A block that runs past the end of the file, a sync marker that
 * is not the header's, or a row count other than the blocks' is an error naming the file.
 */
export async function readAvroFile(localPath: string): Promise<AvroFileContent> {
  const bytes = await readFile(localPath);
  const records = avroContainerRecords(bytes, localPath);
  const content = await decodeAvroBytes(bytes);
  if (content.rows.length !== records) {
    throw new CroupierError(
      'CROUPIER_ERR_ARCHIVE_FILE',
      `${localPath}: the Avro file's blocks hold ${records} records but ${content.rows.length} were decoded; the file is damaged: remove it (the archive writes its offsets again from Kafka while they are retained)`,
      { path: localPath },
    );
  }
  return content;
}

/** Walks an Avro object container (header, then blocks each ending in the header's sync marker); its record count. */
export function avroContainerRecords(bytes: Buffer, where: string): number {
  let pos = 0;
  const damaged = (what: string): never => {
    throw new CroupierError(
      'CROUPIER_ERR_ARCHIVE_FILE',
      `${where}: not a whole Avro file (${what}, at byte ${pos} of ${bytes.length}): it was cut short or damaged; remove it (the archive writes its offsets again from Kafka while they are retained)`,
      { path: where, at: pos, size: bytes.length },
    );
  };
  const long = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (pos >= bytes.length) return damaged('a number runs past the end');
      const byte = bytes[pos++];
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) break;
      scale *= 128;
      if (scale > 2 ** 63) return damaged('a number longer than 64 bits');
    }
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  };
  const skip = (n: number, what: string) => {
    if (n < 0 || pos + n > bytes.length) damaged(what);
    pos += n;
  };
  if (bytes.length < 4 || bytes.readUInt32BE(0) !== 0x4f626a01) damaged('no Avro magic');
  pos = 4;
  // The header's metadata: a map of blocks (a negative count is followed by the block's size), keys and values each
  // a length and bytes, ending with a count of 0.
  for (let count = long(); count !== 0; count = long()) {
    if (count < 0) long();
    for (let i = 0; i < Math.abs(count); i++) {
      skip(long(), 'a metadata key runs past the end');
      skip(long(), 'a metadata value runs past the end');
    }
  }
  const syncAt = pos;
  skip(16, 'the header ends before its sync marker');
  let records = 0;
  while (pos < bytes.length) {
    const count = long();
    const size = long();
    if (count < 0) damaged('a block with a negative count');
    skip(size, `a block of ${count} records declares ${size} bytes past the end`);
    const at = pos;
    skip(16, 'a block ends without its sync marker');
    if (bytes.compare(bytes, syncAt, syncAt + 16, at, at + 16) !== 0) {
      pos = at;
      damaged("a block's sync marker is not the header's");
    }
    records += count;
  }
  return records;
}

/** The rows of an Avro container already read (the file is read once, for the check and the rows). */
function decodeAvroBytes(bytes: Buffer): Promise<AvroFileContent> {
  return new Promise((resolve, reject) => {
    let type: avro.Type | undefined;
    const metadata: Record<string, string> = {};
    let schemaText = '';
    const rows: Buffer[] = [];
    const offsets: number[] = [];
    const decoder = new avro.streams.BlockDecoder({ noDecode: true } as never);
    decoder
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
    decoder.end(bytes);
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
