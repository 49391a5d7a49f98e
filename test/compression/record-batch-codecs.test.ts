/**
 * The record batch codecs: what other Kafka clients write decompresses to the same bytes (zstd frames without
 * a content size, as the Java client streams them, and several frames; an LZ4 frame; the xerial framing of
 * Snappy the Java client writes), croupier's own compression round-trips, and bytes that are not what their
 * codec says, or that would decompress past the limit, are refused with CROUPIER_ERR_BATCH_DECOMPRESS (an LZ4
 * frame from its block layout, before it is decompressed).
 * The fixtures were written by the zstd and lz4 command-line tools.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressFrameSync } from 'lz4-napi';
import { compressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import {
  type CompressionCodec,
  compressRecords,
  decompressRecords,
  decompressRecordsSync,
} from '../../src/compression/record-batch-codecs.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'compression');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const plain = fixture('records.txt');

/** Both ways of decompressing, which must agree. */
async function bothWays(codec: CompressionCodec, data: Buffer, maxBytes?: number): Promise<Buffer> {
  const sync = decompressRecordsSync(codec, data, maxBytes);
  const async = await decompressRecords(codec, data, maxBytes);
  expect(async.equals(sync)).toBe(true);
  return sync;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/** Snappy in the xerial framing: magic, version 1, compatible version 1, then length-prefixed raw blocks. */
function xerial(...blocks: Buffer[]): Buffer {
  const magic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
  return Buffer.concat([magic, int32(1), int32(1), ...blocks.flatMap((b) => [int32(b.length), b])]);
}

describe('record batch codecs', () => {
  it('reads zstd frames without a content size, and several frames one after another', async () => {
    expect((await bothWays('zstd', fixture('records-stream.zst'))).equals(plain)).toBe(true);
    expect((await bothWays('zstd', fixture('records-two-frames.zst'))).equals(plain)).toBe(true);
  });

  it('reads an LZ4 frame', async () => {
    expect((await bothWays('lz4', fixture('records.lz4'))).equals(plain)).toBe(true);
  });

  it('reads raw Snappy and the xerial framing of the Java client', async () => {
    expect((await bothWays('snappy', compressSync(plain))).equals(plain)).toBe(true);
    const framed = xerial(compressSync(plain.subarray(0, 1000)), compressSync(plain.subarray(1000)));
    expect((await bothWays('snappy', framed)).equals(plain)).toBe(true);
  });

  it('round-trips what it compresses (gzip, snappy, lz4) and refuses to write zstd', async () => {
    for (const codec of ['none', 'gzip', 'snappy', 'lz4'] as const) {
      const packed = await compressRecords(codec, plain);
      if (codec !== 'none') expect(packed.length).toBeLessThan(plain.length);
      expect((await bothWays(codec, packed)).equals(plain)).toBe(true);
    }
    await expect(compressRecords('zstd', plain)).rejects.toMatchObject({
      code: 'CROUPIER_ERR_COMPRESSION_UNSUPPORTED',
    });
  });

  it('refuses bytes that are not what their codec says, with the codec named', async () => {
    const garbage = Buffer.from('not compressed at all, just text');
    const cases: [CompressionCodec, Buffer][] = [
      ['gzip', garbage],
      ['snappy', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])],
      ['snappy', xerial(Buffer.from([1, 2, 3])).subarray(0, 22)],
      ['lz4', garbage],
      ['lz4', fixture('records.lz4').subarray(0, 100)],
      ['zstd', garbage],
      ['zstd', fixture('records-stream.zst').subarray(0, 100)],
    ];
    for (const [codec, data] of cases) {
      for (const attempt of [
        () => Promise.resolve().then(() => decompressRecordsSync(codec, data)),
        () => decompressRecords(codec, data),
      ]) {
        const error = await attempt().then(
          () => null,
          (e: unknown) => e as { code?: string; message: string },
        );
        expect(error?.code, `${codec} ${data.toString('hex').slice(0, 16)}`).toBe(
          'CROUPIER_ERR_BATCH_DECOMPRESS',
        );
        expect(error?.message).toContain(codec);
      }
    }
  });

  it('refuses a batch that would decompress past the limit', async () => {
    const limit = plain.length - 1;
    const packed: [CompressionCodec, Buffer][] = [
      ['gzip', await compressRecords('gzip', plain)],
      ['snappy', compressSync(plain)],
      ['lz4', fixture('records.lz4')],
      ['zstd', fixture('records-stream.zst')],
    ];
    for (const [codec, data] of packed) {
      expect(() => decompressRecordsSync(codec, data, limit)).toThrow(/could not be decompressed|more than/);
      await expect(decompressRecords(codec, data, limit)).rejects.toMatchObject({
        code: 'CROUPIER_ERR_BATCH_DECOMPRESS',
      });
    }
  });

  it('refuses an LZ4 frame whose blocks could hold more than the limit before decompressing it', async () => {
    // An LZ4 frame of 4 MiB blocks of zeros: each compressed block is about 16 KB, so 1 MiB of such a frame
    // decompresses to 256 MiB. Its blocks are read for their count without decompressing: here the third block
    // is garbage, which a decoder would reach only after writing the first two (8 MiB).
    const frame = compressFrameSync(Buffer.alloc(4 * 1024 * 1024));
    const header = frame.subarray(0, 7);
    const block = frame.subarray(7, frame.length - 4);
    const garbage = Buffer.concat([Buffer.from([100, 0, 0, 0]), Buffer.alloc(100, 0xab)]);
    const bomb = Buffer.concat([header, block, block, garbage, Buffer.alloc(4)]);
    const limit = 6 * 1024 * 1024;
    for (const attempt of [
      () => Promise.resolve().then(() => decompressRecordsSync('lz4', bomb, limit)),
      () => decompressRecords('lz4', bomb, limit),
    ]) {
      await expect(attempt()).rejects.toMatchObject({
        code: 'CROUPIER_ERR_BATCH_DECOMPRESS',
        details: { codec: 'lz4', maxBytes: limit },
      });
    }
    // The same two blocks alone, within a limit they fit, still decompress.
    const whole = Buffer.concat([header, block, block, Buffer.alloc(4)]);
    expect((await bothWays('lz4', whole, 8 * 1024 * 1024)).length).toBe(8 * 1024 * 1024);
  });
});
