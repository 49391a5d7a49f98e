/**
 * Whether the Kafka log under a partition's archive is the log the archive was written from, or a new one that
 * started again (an embedded broker without `broker.dataDir` restarted, the topic deleted and made again). Pure:
 * the sink reads the log's range and the record at the archived end, these functions decide.
 *
 * Offsets alone cannot tell two logs apart, so the marker keeps a fingerprint of the last archived record: its
 * offset, Kafka timestamp and a SHA-256 of its key and value. At positioning:
 * - the log ends at or before the archived end: a new log (a log never loses its tail);
 * - the log starts after the archived end: the same log, its older records removed by retention;
 * - the log holds the archived end: its record there is compared with the fingerprint; another record is a new
 *   log. A marker without a fingerprint (written before there were any, or recovered by a scan of the names)
 *   cannot be compared: the log is taken for the same one, as before.
 */
import { createHash } from 'node:crypto';

/** What identifies a record of a Kafka log. */
export interface RecordFingerprint {
  offset: number;
  /** Kafka timestamp, ms. */
  timestamp: number;
  /** SHA-256 (hex) of the key's and the value's lengths and bytes. */
  sha256: string;
}

/** A partition's log range as the broker reports it: first offset held, and the offset after the last one. */
export interface LogRange {
  low: number;
  high: number;
}

const NULL_LENGTH = Buffer.from([0xff, 0xff, 0xff, 0xff]);

function lengthOf(bytes: Uint8Array | null): Buffer {
  if (bytes === null) return NULL_LENGTH;
  const out = Buffer.alloc(4);
  out.writeInt32BE(bytes.length);
  return out;
}

/** The fingerprint of a record (a null key or value is told from an empty one). */
export function recordFingerprint(
  offset: number,
  timestamp: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
): RecordFingerprint {
  const hash = createHash('sha256').update(lengthOf(key));
  if (key !== null) hash.update(key);
  hash.update(lengthOf(value));
  if (value !== null) hash.update(value);
  return { offset, timestamp, sha256: hash.digest('hex') };
}

export const sameRecord = (a: RecordFingerprint, b: RecordFingerprint): boolean =>
  a.offset === b.offset && a.timestamp === b.timestamp && a.sha256 === b.sha256;

/** Whether `value` (parsed JSON) is a fingerprint. */
export function isRecordFingerprint(value: unknown): value is RecordFingerprint {
  const f = value as Partial<RecordFingerprint> | null;
  return (
    typeof f === 'object' &&
    f !== null &&
    Number.isSafeInteger(f.offset) &&
    Number.isSafeInteger(f.timestamp) &&
    typeof f.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(f.sha256)
  );
}

/**
 * What the log's range says of the log under an archive that ends at `archivedEnd` (≥ 0) with the fingerprint
 * `last` (null: none): `same`, `new`, or `compare` (read the record at `archivedEnd` and compare it with `last`).
 */
export function judgeLogRange(
  archivedEnd: number,
  last: RecordFingerprint | null,
  range: LogRange,
): 'same' | 'new' | 'compare' {
  if (range.high <= archivedEnd) return 'new';
  if (range.low > archivedEnd) return 'same';
  return last !== null && last.offset === archivedEnd ? 'compare' : 'same';
}

/**
 * The verdict on the first records fetched after seeking to `last.offset`: `new` when the record there differs,
 * `same` when it is equal or absent (the first record fetched is after it: removed by compaction, or a
 * transaction's marker), `wait` when the records end before it.
 */
export function judgeFetchedRecords(
  last: RecordFingerprint,
  messages: readonly { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null }[],
): 'same' | 'new' | 'wait' {
  for (const m of messages) {
    const offset = Number(m.offset);
    if (offset < last.offset) continue;
    if (offset > last.offset) return 'same';
    return sameRecord(recordFingerprint(offset, Number(m.timestamp), m.key, m.value), last) ? 'same' : 'new';
  }
  return 'wait';
}
