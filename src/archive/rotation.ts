/**
 * When a file being written is closed and committed. Pure: the partition writer asks before each record
 * (does this record belong in a new file?) and on a timer (has the partition gone quiet?).
 *
 * - `flushRecords`: the file holds that many records;
 * - the hour: the record's Kafka timestamp is in another UTC hour than the file's (a file holds one hour);
 * - `rotateIntervalMs` of record time: the record is that much later than the file's first record;
 * - `idleRotateMs` of wall-clock quiet: no record arrived for that long (a quiet partition never keeps its
 *   records in a temporary file for ever).
 */
import { hourStartOf } from './layout.ts';

export interface RotationPolicy {
  flushRecords: number;
  /** 0: no rotation by record time within the hour. */
  rotateIntervalMs: number;
  idleRotateMs: number;
}

/** What the policy needs to know of an open file. */
export interface OpenFileState {
  records: number;
  /** UTC hour (ms) of the file's records. */
  hourStart: number;
  /** Kafka timestamp of the file's first record. */
  firstTimestamp: number;
  /** Wall-clock time of the last append. */
  lastAppendAt: number;
}

export type RotationReason = 'records' | 'hour' | 'interval' | 'idle';

/** Why the open file must be closed before a record with `timestamp` is appended, or null to append it. */
export function rotationBefore(
  policy: RotationPolicy,
  open: OpenFileState,
  timestamp: number,
): RotationReason | null {
  if (open.records >= policy.flushRecords) return 'records';
  if (hourStartOf(timestamp) !== open.hourStart) return 'hour';
  if (policy.rotateIntervalMs > 0 && timestamp - open.firstTimestamp >= policy.rotateIntervalMs)
    return 'interval';
  return null;
}

/** Whether the open file is full (closed at once, not at the next record). */
export const isFull = (policy: RotationPolicy, open: OpenFileState): boolean =>
  open.records >= policy.flushRecords;

/** Whether the partition has been quiet long enough to close its open file. */
export const isIdle = (policy: RotationPolicy, open: OpenFileState, now: number): boolean =>
  open.records > 0 && now - open.lastAppendAt >= policy.idleRotateMs;
