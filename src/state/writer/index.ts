/** The writer of Redis state (the stream topology's side): one atomic script call per partition batch. */
export type { DeadLetterCounts } from './payload.ts';
export type { ApplyOutcome } from './script-codes.ts';
export type { RedisClient } from './scripts.ts';
export {
  type BatchSpan,
  createStateWriter,
  type StateWriter,
  type StateWriterOptions,
  type StoredPartitionState,
} from './state-writer.ts';
