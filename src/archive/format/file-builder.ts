/**
 * A file being built for one partition and hour: records go in as they come, and `finish` writes the final
 * file (Parquet or Avro) locally, with its metadata, ready to be uploaded and renamed into place.
 */
import type { ArchiveRecord } from './rows.ts';

/** What each file's metadata carries besides its rows. */
export interface FileMetadata {
  topic: string;
  partition: number;
  startOffset: number;
  endOffset: number;
  records: number;
  /** Writer schemas of the file's records: registry id → schema text. */
  writerSchemas: Record<string, string>;
}

export interface FileBuilder {
  /** What records must carry: decoded fields, or the Avro body in the contract's schema (`kind: 'avro'`). */
  readonly input: 'fields' | 'avro';
  /** Appends records (in offset order) to the file being built. */
  append(partition: number, records: readonly ArchiveRecord[]): void;
  /**
   * Appends records packed by record-frames.ts (the Parquet builders that read Avro bodies). The builder may
   * take `frames`' buffer (a transfer to another thread detaches it) when the view covers all of it.
   */
  appendFrames?(partition: number, frames: Uint8Array): void;
  /** Writes the final file at `localPath` and removes what staging left; resolves to its size. */
  finish(metadata: FileMetadata, localPath: string): Promise<number>;
  /** Drops the file being built. */
  discard(): Promise<void>;
}

/** The metadata as string pairs (Parquet key-value metadata, Avro container metadata). */
export function metadataEntries(metadata: FileMetadata): Record<string, string> {
  return {
    'croupier.topic': metadata.topic,
    'croupier.partition': String(metadata.partition),
    'croupier.startOffset': String(metadata.startOffset),
    'croupier.endOffset': String(metadata.endOffset),
    'croupier.records': String(metadata.records),
    'croupier.schemaIds': Object.keys(metadata.writerSchemas).join(','),
    'croupier.writerSchemas': JSON.stringify(metadata.writerSchemas),
  };
}
