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
import { FrameCursor } from './record-frames.ts';

/** A direct builder also appends packed records in place (record-frames.ts), with no object per record. */
export interface DirectParquetBuilder extends FileBuilder {
  appendFrames(partition: number, frames: Uint8Array): void;
}

export function createDirectParquetBuilder(options: {
  table: TopicTable;
  compression: DirectCompression;
}): DirectParquetBuilder {
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

  /** A BYTE_ARRAY value `src[start, start + length)`, or null when `length` < 0. */
  function putOptionalBytes(leaf: LeafColumn, src: Buffer | null, start: number, length: number): void {
    if (src === null || length < 0) leaf.nul(0, 0);
    else leaf.putBytes(src, start, length, 0);
  }

  /** Transcodes a body (`buf[start, end)`) into the contract columns; on a bad body restores them and returns why. */
  function readBody(recordType: string, buf: Buffer, start: number, end: number): string | null {
    for (let i = 0; i < contractLeaves.length; i++) contractLeaves[i].markTo(mark, i * 3);
    try {
      cursor.buf = buf;
      cursor.pos = start;
      cursor.end = end;
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

  function putSchema(recordType: string, schemaId: number): void {
    let name = typeNames.get(recordType);
    if (!name) {
      name = Buffer.from(recordType, 'utf8');
      typeNames.set(recordType, name);
    }
    kafka._schema.putBytes(name, 0, name.length, 0);
    kafka._schema_id.putInt32(schemaId, 0);
  }

  /** The columns every row has; `read` says whether the contract columns hold the record's fields. */
  function putKafkaColumns(partition: number, offset: number, timestamp: number, read: boolean): void {
    if (!read) {
      nullContractColumns();
      kafka._schema.nul(0, 0);
      kafka._schema_id.nul(0, 0);
    }
    kafka._partition.putInt32(partition, 0);
    kafka._offset.putInt64(offset >>> 0, Math.floor(offset / 2 ** 32), 0);
    kafka._timestamp.putInt64(timestamp % 2 ** 32, Math.floor(timestamp / 2 ** 32), 0);
  }

  return {
    input: 'avro',
    append(partition, records: readonly ArchiveRecord[]) {
      if (finished) throw new Error('append after finish');
      for (const r of records) {
        const d = r.decoded;
        let error: string | null = null;
        if (d.kind === 'avro') {
          error = readBody(d.recordType, d.body, d.start, d.body.length);
          if (error === null) putSchema(d.recordType, d.schemaId);
        } else if (d.kind === 'value') {
          throw new Error('the direct Parquet builder reads Avro bodies, not decoded fields');
        } else if (d.kind === 'undecodable') error = d.error;
        putKafkaColumns(partition, r.offset, r.timestamp, d.kind === 'avro' && error === null);
        putOptionalBytes(kafka._key, r.key, 0, r.key?.length ?? -1);
        if (error === null) {
          kafka._raw.nul(0, 0);
          kafka._error.nul(0, 0);
        } else {
          putOptionalBytes(kafka._raw, r.value, 0, r.value?.length ?? -1);
          putString(kafka._error, error);
        }
        rows++;
      }
    },
    appendFrames(partition: number, view: Uint8Array) {
      if (finished) throw new Error('append after finish');
      const frames = Buffer.isBuffer(view)
        ? view
        : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
      const f = new FrameCursor(frames);
      while (f.next()) {
        let error: string | null = null;
        if (f.isAvro) {
          const recordType = table.recordTypes[f.recordType];
          if (recordType === undefined) throw new Error('a packed Avro record lost its type');
          const start = f.bodyStart + f.start;
          error = readBody(recordType, frames, start, f.bodyStart + f.bodyLength);
          if (error === null) putSchema(recordType, f.schemaId);
        }
        putKafkaColumns(partition, f.offset, f.timestamp, f.isAvro && error === null);
        putOptionalBytes(kafka._key, frames, f.keyStart, f.keyLength);
        if (error === null && !f.isUndecodable) {
          kafka._raw.nul(0, 0);
          kafka._error.nul(0, 0);
        } else {
          putOptionalBytes(kafka._raw, frames, f.valueStart, f.valueLength);
          if (error === null) kafka._error.putBytes(frames, f.errorStart, f.errorLength, 0);
          else putString(kafka._error, error);
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
