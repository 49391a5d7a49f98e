/** The shapes a partition batch takes on its way through the topology. */
import type { UndecodableBatch } from '../src/kafka/index.ts';
import type { TopicPartition } from '../src/state/layout/index.ts';
import type { SchemaName } from './schemas/index.ts';
import type { TopicRole } from './validate/events.ts';

/** A Kafka record as fetched: its offset and original bytes. */
export interface RawRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Kafka's timestamp of the record (ms), where the fetch gave one. */
  timestamp?: number;
  /**
   * Set when this stands in for a record batch the consumer could not decode: `offset` is the batch's last
   * offset, `value` the batch's bytes.
   */
  undecodableBatch?: UndecodableBatch;
}

/** What decoding made of one record. */
export type DecodedRecord =
  | { raw: RawRecord; kind: 'decoded'; schemaName: SchemaName; value: unknown }
  | { raw: RawRecord; kind: 'refused'; code: string; message: string }
  /** A null value on a CDC topic: the tombstone Debezium writes after a delete, for log compaction. */
  | { raw: RawRecord; kind: 'tombstone' };

/** A refused record, bound for the dead-letter topic. */
export interface RefusedRecord {
  raw: RawRecord;
  code: string;
  message: string;
}

/** The part of a batch every stage sees: where it comes from and its raw records, in offset order. */
export interface PartitionChunk {
  tp: TopicPartition;
  role: TopicRole;
  raw: readonly RawRecord[];
}
