/**
 * What a partition's writer reads of a fetched batch: each record's offset, timestamp and schema id, and a way
 * to hand a range of records to the file's builder. A batch comes as records (`recordRun`) or packed into one
 * buffer straight from the fetched messages (record-frames.ts `packMessages`), with no object per record.
 */
import { type RecordFingerprint, recordFingerprint } from '../log-identity.ts';
import type { FileBuilder } from './file-builder.ts';
import type { ArchiveRecord } from './rows.ts';

export interface RecordRun {
  readonly length: number;
  offsetAt(i: number): number;
  timestampAt(i: number): number;
  /** The registry id of record `i`'s writer schema; -1 when it has none (tombstone, undecodable). */
  schemaIdAt(i: number): number;
  /** What identifies record `i` in its log (read before `appendTo`, which may hand the bytes to another thread). */
  fingerprintAt(i: number): RecordFingerprint;
  /** Appends records `[from, to)` to the builder. */
  appendTo(builder: FileBuilder, partition: number, from: number, to: number): void;
}

export function recordRun(records: readonly ArchiveRecord[]): RecordRun {
  return {
    length: records.length,
    offsetAt: (i) => records[i].offset,
    timestampAt: (i) => records[i].timestamp,
    schemaIdAt(i) {
      const d = records[i].decoded;
      return d.kind === 'value' || d.kind === 'avro' ? d.schemaId : -1;
    },
    fingerprintAt(i) {
      const r = records[i];
      return recordFingerprint(r.offset, r.timestamp, r.key, r.value);
    },
    appendTo(builder, partition, from, to) {
      builder.append(partition, from === 0 && to === records.length ? records : records.slice(from, to));
    },
  };
}
