/** Messages between the archive and its Parquet builder thread (one builder per file, by id). */
import type { AvroSchema } from '../columns.ts';
import type { FileMetadata } from '../file-builder.ts';
import type { DirectCompression } from './parquet-file.ts';

export type BuilderRequest =
  | {
      op: 'open';
      id: number;
      topic: string;
      contracts: readonly AvroSchema[];
      compression: DirectCompression;
    }
  /** `records`: packed by record-frames.ts, transferred. */
  | { op: 'append'; id: number; partition: number; records: ArrayBuffer }
  | { op: 'finish'; id: number; metadata: FileMetadata; localPath: string }
  | { op: 'discard'; id: number };

export type BuilderReply = { id: number; bytes: number } | { id: number; error: string };
