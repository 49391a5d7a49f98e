/**
 * How the archive tells the Kafka log its files were written from from a new one (log-identity.ts): by the log's
 * range, and by the record at the archived end, fingerprinted alike from fetched messages and from the batches
 * the partition writer takes (decoded records, or messages packed as they are).
 */
import { describe, expect, it } from 'vitest';
import { packMessages } from '../../src/archive/format/parquet/record-frames.ts';
import { recordRun } from '../../src/archive/format/record-run.ts';
import { judgeFetchedRecords, judgeLogRange, recordFingerprint } from '../../src/archive/log-identity.ts';

const message = (offset: number, value: string | null, key: string | null = 'user-1', timestamp = 1000) => ({
  offset: String(offset),
  timestamp: String(timestamp),
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
});
const fingerprintOf = (m: ReturnType<typeof message>) =>
  recordFingerprint(Number(m.offset), Number(m.timestamp), m.key, m.value);

describe('a log told by its range', () => {
  const last = fingerprintOf(message(319, 'a'));
  it('takes a log that ends at or before the archived end for a new one', () => {
    expect(judgeLogRange(319, last, { low: 0, high: 50 })).toBe('new');
    expect(judgeLogRange(319, last, { low: 0, high: 319 })).toBe('new');
    expect(judgeLogRange(319, null, { low: 0, high: 0 })).toBe('new');
  });
  it('takes a log trimmed by retention past the archived end for the same one', () => {
    expect(judgeLogRange(319, last, { low: 320, high: 320 })).toBe('same');
    expect(judgeLogRange(319, last, { low: 400, high: 900 })).toBe('same');
  });
  it('compares the record at the archived end when the log holds it, and cannot without a fingerprint', () => {
    expect(judgeLogRange(319, last, { low: 0, high: 320 })).toBe('compare');
    expect(judgeLogRange(319, last, { low: 319, high: 5000 })).toBe('compare');
    expect(judgeLogRange(319, null, { low: 0, high: 5000 })).toBe('same');
  });
});

describe('a log told by the record at the archived end', () => {
  const last = fingerprintOf(message(5, 'e'));
  it('is the same log when the record there is the one archived', () => {
    expect(judgeFetchedRecords(last, [message(5, 'e'), message(6, 'f')])).toBe('same');
  });
  it('is a new log when the record there differs in its value, key or timestamp', () => {
    expect(judgeFetchedRecords(last, [message(5, 'E')])).toBe('new');
    expect(judgeFetchedRecords(last, [message(5, 'e', 'user-2')])).toBe('new');
    expect(judgeFetchedRecords(last, [message(5, 'e', 'user-1', 1001)])).toBe('new');
  });
  it('is the same log when the record is gone (compacted), and waits for it when the records end before it', () => {
    expect(judgeFetchedRecords(last, [message(7, 'g')])).toBe('same');
    expect(judgeFetchedRecords(last, [message(3, 'c'), message(4, 'd')])).toBe('wait');
    expect(judgeFetchedRecords(last, [message(4, 'd'), message(5, 'e')])).toBe('same');
  });
  it('tells a null key or value from an empty one', () => {
    expect(fingerprintOf(message(5, null)).sha256).not.toBe(fingerprintOf(message(5, '')).sha256);
    expect(fingerprintOf(message(5, 'e', null)).sha256).not.toBe(fingerprintOf(message(5, 'e', '')).sha256);
  });
});

describe('the fingerprint the partition writer keeps', () => {
  const messages = [message(10, 'body-a'), message(11, null, null), message(12, 'body-c', 'user-3', 2000)];
  it('is the fingerprint of the fetched message, for packed and decoded batches', () => {
    const packed = packMessages(messages, () => ({ type: 0, schemaId: 7, start: 0 }));
    expect(packed).not.toBeNull();
    const decoded = recordRun(
      messages.map((m) => ({
        offset: Number(m.offset),
        timestamp: Number(m.timestamp),
        key: m.key,
        value: m.value,
        decoded: { kind: 'tombstone' as const },
      })),
    );
    messages.forEach((m, i) => {
      expect(packed?.fingerprintAt(i)).toEqual(fingerprintOf(m));
      expect(decoded.fingerprintAt(i)).toEqual(fingerprintOf(m));
    });
  });
});
