/**
 * Parquet files written directly from the records' Avro bytes: each record body is transcoded into the
 * file's leaf columns as it is appended (avro-transcoder.ts), and `finish` compresses the pages on the thread
 * pool and writes the file (parquet-file.ts). Nothing is decoded into objects or staged as text, so the
 * consumer's thread spends a few byte copies per value.
 *
 * The Kafka columns (`_schema`, `_schema_id`, `_partition`, `_offset`, `_timestamp`, `_key`, and `_raw` with
 * `_error` for a value that could not be read) are written here. A body the transcoder refuses is rolled back
 * and kept as undecodable, bytes and reason, like any undecodable record.
 */
import { rm, writeFile } from 'node:fs/promises';
import { CroupierError } from '../../../errors/index.ts';
import { KAFKA_COLUMN_NAMES, type KafkaColumnName, type TopicTable } from '../columns.ts';
import { type FileBuilder, type FileMetadata, metadataEntries } from '../file-builder.ts';
import type { ArchiveRecord } from '../rows.ts';
import { type Cursor, compileRecordReader, TranscodeError } from './avro-transcoder.ts';
import type { LeafColumn } from './leaf-column.ts';
import { type DirectCompression, encodeParquetFile } from './parquet-file.ts';
import { parquetSchemaOf, type SchemaNode } from './parquet-schema.ts';

export function createDirectParquetBuilder(options: {
  table: TopicTable;
  compression: DirectCompression;
}): FileBuilder {
  const { table } = options;
  const schema = parquetSchemaOf(table);
  const byName = new Map<string, SchemaNode>(table.columns.map((c, i) => [c.name, schema.columns[i]]));
  const kafka = {} as Record<KafkaColumnName, LeafColumn>;
  for (const name of KAFKA_COLUMN_NAMES) {
    const node = byName.get(name);
    if (node?.kind !== 'leaf') throw new Error(`table ${table.topic} has no Kafka column ${name}`);
    kafka[name] = node.leaf;
    byName.delete(name);
  }
  const readers = new Map<string, (c: Cursor) => void>();
  const readerOf = (recordType: string) => {
    let reader = readers.get(recordType);
    if (!reader) {
      const i = table.recordTypes.indexOf(recordType);
      if (i < 0)
        throw new TranscodeError(`record type ${recordType} does not belong on topic ${table.topic}`);
      reader = compileRecordReader(table.contracts[i], byName);
      readers.set(recordType, reader);
    }
    return reader;
  };
  const typeNames = new Map<string, Buffer>();
  const contractLeaves = schema.leaves.filter((l) => !Object.values(kafka).includes(l));
  // Per leaf: level entries, values and value bytes before the record being read (to roll a bad one back).
  const mark = new Float64Array(schema.leaves.length * 3);
  const cursor: Cursor = { buf: Buffer.alloc(0), pos: 0, end: 0 };
  let rows = 0;
  let finished = false;

  function putString(leaf: LeafColumn, text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    leaf.putBytes(bytes, 0, bytes.length, 0);
  }

  function putOptionalBytes(leaf: LeafColumn, bytes: Buffer | null): void {
    if (bytes === null) leaf.nul(0, 0);
    else leaf.putBytes(bytes, 0, bytes.length, 0);
  }

  /** Transcodes a body into the contract columns; on a bad body restores them and returns why. */
  function readBody(recordType: string, body: Buffer, start: number): string | null {
    for (let i = 0; i < contractLeaves.length; i++) contractLeaves[i].markTo(mark, i * 3);
    try {
      cursor.buf = body;
      cursor.pos = start;
      cursor.end = body.length;
      readerOf(recordType)(cursor);
      return null;
    } catch (error) {
      if (!(error instanceof TranscodeError)) throw error;
      for (let i = 0; i < contractLeaves.length; i++) contractLeaves[i].rollBackTo(mark, i * 3);
      return `CROUPIER_ERR_SERDE_DECODE: its Avro body is invalid (${error.message})`;
    }
  }

  function nullContractColumns(): void {
    for (const leaf of contractLeaves) leaf.nul(0, 0);
  }

  return {
    input: 'avro',
    append(partition, records: readonly ArchiveRecord[]) {
      if (finished) throw new Error('append after finish');
      for (const r of records) {
        const d = r.decoded;
        let error: string | null = null;
        if (d.kind === 'avro') {
          error = readBody(d.recordType, d.body, d.start);
          if (error === null) {
            let name = typeNames.get(d.recordType);
            if (!name) {
              name = Buffer.from(d.recordType, 'utf8');
              typeNames.set(d.recordType, name);
            }
            kafka._schema.putBytes(name, 0, name.length, 0);
            kafka._schema_id.putInt32(d.schemaId, 0);
          }
        } else if (d.kind === 'value') {
          throw new Error('the direct Parquet builder reads Avro bodies, not decoded fields');
        } else if (d.kind === 'undecodable') error = d.error;
        if (d.kind !== 'avro' || error !== null) {
          nullContractColumns();
          kafka._schema.nul(0, 0);
          kafka._schema_id.nul(0, 0);
        }
        kafka._partition.putInt32(partition, 0);
        kafka._offset.putInt64(r.offset >>> 0, Math.floor(r.offset / 2 ** 32), 0);
        kafka._timestamp.putInt64(r.timestamp % 2 ** 32, Math.floor(r.timestamp / 2 ** 32), 0);
        putOptionalBytes(kafka._key, r.key);
        if (error === null) {
          kafka._raw.nul(0, 0);
          kafka._error.nul(0, 0);
        } else {
          putOptionalBytes(kafka._raw, r.value);
          putString(kafka._error, error);
        }
        rows++;
      }
    },
    async finish(metadata: FileMetadata, localPath: string) {
      finished = true;
      try {
        const bytes = await encodeParquetFile(schema, rows, metadataEntries(metadata), options.compression);
        await writeFile(localPath, bytes, { mode: 0o644 });
        return bytes.length;
      } catch (error) {
        await rm(localPath, { force: true });
        throw new CroupierError(
          'CROUPIER_ERR_ARCHIVE_FILE',
          `cannot write ${localPath}: ${(error as Error).message}`,
          { path: localPath },
          { cause: error },
        );
      }
    },
    async discard() {
      finished = true;
    },
  };
}
