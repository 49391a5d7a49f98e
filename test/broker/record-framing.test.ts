/**
 * Record framing checked chunk by chunk, as a decompressor hands records over, says what the check of the whole
 * buffer says, wherever the chunks split the records; and it stops at the first bad record.
 */
import { describe, expect, it } from 'vitest';
import {
  checkRecords,
  RecordFramingError,
  RecordStreamCheck,
} from '../../src/broker/protocol/record-framing.ts';
import { encodeRecord, type TestRecord } from './support/batches.ts';

const RECORDS: TestRecord[] = Array.from({ length: 40 }, (_, i) => ({
  key: i % 3 === 0 ? null : `k${i}`,
  value: i % 5 === 0 ? null : 'v'.repeat(i * 7),
  headers: i % 4 === 0 ? [['h', `${i}`]] : [],
  timestampDelta: i * 1000,
}));
const GOOD = Buffer.concat(RECORDS.map(encodeRecord));

/** The stream check's verdict on `buf` pushed in chunks of `size` bytes. */
function streamed(buf: Buffer, count: number, size: number): string | undefined {
  const check = new RecordStreamCheck(count);
  try {
    for (let at = 0; at < buf.length; at += size) check.push(buf.subarray(at, at + size));
  } catch (error) {
    if (error instanceof RecordFramingError) return error.message;
    throw error;
  }
  return check.finish();
}

describe('record framing', () => {
  it('agrees with the whole-buffer check for any chunking, good records and bad', () => {
    const withTrailing = Buffer.concat([GOOD, Buffer.from([0])]);
    const badOffset = Buffer.concat([encodeRecord({ value: 'a' }, 0), encodeRecord({ value: 'b' }, 5)]);
    const cases: [Buffer, number][] = [
      [GOOD, RECORDS.length],
      [GOOD, RECORDS.length + 1],
      [GOOD, RECORDS.length - 1],
      [withTrailing, RECORDS.length],
      [GOOD.subarray(0, GOOD.length - 3), RECORDS.length],
      [badOffset, 2],
      [Buffer.alloc(64), 1],
    ];
    for (const [buf, count] of cases) {
      const whole = checkRecords(buf, 0, count, buf.length);
      for (const size of [1, 2, 3, 7, 64, buf.length]) {
        expect(streamed(buf, count, size) === undefined, `${whole} (chunks of ${size})`).toBe(
          whole === undefined,
        );
      }
    }
    expect(checkRecords(GOOD, 0, RECORDS.length, GOOD.length)).toBeUndefined();
  });

  it('stops at the first bad record without waiting for the rest', () => {
    const check = new RecordStreamCheck(2);
    expect(() => check.push(Buffer.alloc(4096))).toThrow(RecordFramingError);
  });

  it('checks a record longer than many chunks, as a small zstd batch of zeros decompresses', () => {
    // 32 MiB in 4 KiB chunks: joined with what was pending at each chunk, the record was copied 8,192 times
    // (about 275 GB of copying: the check did not finish); gathered and joined once it is whole, it is read once.
    const big = encodeRecord({ key: 'k', value: Buffer.alloc(32 * 1024 * 1024) }, 0);
    const tail = encodeRecord({ value: 'after' }, 1);
    const buf = Buffer.concat([big, tail]);
    expect(streamed(buf, 2, 4096)).toBeUndefined();
    expect(streamed(buf, 1, 4096)).toBe('bytes left after the last record');
    expect(streamed(buf.subarray(0, buf.length - 1), 2, 4096)).toBe('record 1 runs past the batch');
  });
});
