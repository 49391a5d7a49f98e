/**
 * The compression codecs of Kafka record batches (attribute bits 0-2): what a producer may compress a batch's
 * records with, and how to get them back. One place for the embedded broker (which decompresses a produced
 * batch to validate its records, as Kafka does) and for croupier's kafkajs clients (which register these
 * codecs, `src/kafka/compression-codecs.ts`).
 *
 *   gzip    node:zlib
 *   snappy  `snappy` (napi-rs, prebuilt): raw Snappy as librdkafka writes it, or the xerial framing of the Java
 *           client (`\x82SNAPPY\0`, two INT32 versions, then INT32-length-prefixed raw blocks)
 *   lz4     `lz4-napi` (napi-rs, prebuilt): the LZ4 frame format (Kafka's magic-2 batches); its size is bounded
 *           from the frame's block layout before decompressing, as lz4-napi takes no output limit
 *   zstd    `fzstd` (pure JavaScript): one or more frames, with or without their content size (the Java client
 *           streams them without); croupier reads zstd, it does not write it
 */

import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip } from 'node:zlib';
import { Decompress as ZstdStream } from 'fzstd';
import {
  decompressFrameSync,
  compressFrame as lz4Compress,
  decompressFrame as lz4Decompress,
} from 'lz4-napi';
import { compress as snappyCompress, uncompress as snappyUncompress, uncompressSync } from 'snappy';
import { CroupierError } from '../errors/index.ts';

/** Compression codecs by their attribute value. */
export const COMPRESSION_CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionCodec = (typeof COMPRESSION_CODECS)[number];

/** Largest decompressed records section accepted by default (Kafka's socket.request.max.bytes). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 100 * 1024 * 1024;

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

function failure(codec: CompressionCodec, error: unknown): CroupierError {
  if (error instanceof CroupierError) return error;
  return new CroupierError(
    'CROUPIER_ERR_BATCH_DECOMPRESS',
    `a ${codec} record batch could not be decompressed: ${(error as Error).message}`,
    { codec },
    { cause: error },
  );
}

function tooLarge(codec: CompressionCodec, maxBytes: number): CroupierError {
  return new CroupierError(
    'CROUPIER_ERR_BATCH_DECOMPRESS',
    `a ${codec} record batch decompresses to more than ${maxBytes} bytes`,
    { codec, maxBytes },
  );
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The raw Snappy blocks of `data`: one (raw Snappy) or those of the xerial framing. */
function snappyBlocks(data: Buffer): Buffer[] {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return [data];
  const blocks: Buffer[] = [];
  let at = XERIAL_HEADER_BYTES;
  while (at < data.length) {
    if (at + 4 > data.length) throw new Error('xerial snappy: a block length runs past the data');
    const length = data.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > data.length) throw new Error('xerial snappy: a block runs past the data');
    blocks.push(data.subarray(at, at + length));
    at += length;
  }
  return blocks;
}

/** The uncompressed length a raw Snappy block announces (its varint preamble). */
function snappyLength(block: Buffer): number {
  let length = 0;
  let scale = 1;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!;
    length += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return length;
    scale *= 128;
  }
  throw new Error('snappy: bad length preamble');
}

function checkSnappyLength(blocks: readonly Buffer[], maxBytes: number): void {
  let total = 0;
  for (const block of blocks) total += snappyLength(block);
  if (total > maxBytes) throw tooLarge('snappy', maxBytes);
}

const LZ4_MAGIC = 0x184d2204;
/** Block maximum sizes by the frame descriptor's BD bits 6-4 (4: 64 KiB … 7: 4 MiB). */
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/**
 * The most bytes the LZ4 frames of `data` can decompress to, read from their block layout without
 * decompressing: each compressed block at most the frame's block maximum, each stored block its own size. One
 * frame of 1 MiB of 4 MiB blocks holding zeros decompresses to 256 MiB, so the bound is checked before
 * decompressing (lz4-napi takes no output limit). Skippable frames count nothing.
 */
function lz4Bound(data: Buffer): number {
  let at = 0;
  let total = 0;
  const need = (n: number, what: string) => {
    if (at + n > data.length) throw new Error(`lz4 frame: ${what} runs past the data at byte ${at}`);
  };
  while (at < data.length) {
    need(4, 'a frame magic');
    const magic = data.readUInt32LE(at);
    at += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      need(4, 'a skippable frame length');
      at += 4 + data.readUInt32LE(at);
      continue;
    }
    if (magic !== LZ4_MAGIC) throw new Error(`lz4 frame: bad magic ${magic.toString(16)} at byte ${at - 4}`);
    need(2, 'the frame descriptor');
    const flags = data[at]!;
    const blockMax = LZ4_BLOCK_MAX[(data[at + 1]! >> 4) & 7]!;
    if (blockMax === 0) throw new Error(`lz4 frame: bad block maximum size at byte ${at + 1}`);
    at += 2 + (flags & 0x08 ? 8 : 0) + (flags & 0x01 ? 4 : 0) + 1;
    const blockChecksum = flags & 0x10 ? 4 : 0;
    for (;;) {
      need(4, 'a block size');
      const size = data.readUInt32LE(at);
      at += 4;
      if (size === 0) break;
      const stored = (size & 0x80000000) !== 0;
      const length = size & 0x7fffffff;
      need(length + blockChecksum, 'a block');
      total += stored ? length : blockMax;
      at += length + blockChecksum;
    }
    at += flags & 0x04 ? 4 : 0;
  }
  return total;
}

function checkLz4Bound(data: Buffer, maxBytes: number): void {
  if (lz4Bound(data) > maxBytes) throw tooLarge('lz4', maxBytes);
}

/** zstd frames, decompressed as a stream (a missing content size is no matter) into `onChunk`, at most `maxBytes`. */
function zstdStream(data: Buffer, maxBytes: number, onChunk: (chunk: Uint8Array) => void): void {
  let total = 0;
  const stream = new ZstdStream((chunk) => {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge('zstd', maxBytes);
    onChunk(chunk);
  });
  stream.push(data, true);
}

function zstdDecompress(data: Buffer, maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  zstdStream(data, maxBytes, (chunk) => chunks.push(Buffer.from(chunk)));
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * Decompresses on the calling thread into `onChunk`, chunk by chunk where the codec streams (zstd, whose
 * decoder here is the slow one), in one chunk otherwise; an error thrown by `onChunk` stops the decompression
 * and comes out as it is. Other failures throw as `decompressRecordsSync` does.
 */
export function decompressRecordsInChunks(
  codec: CompressionCodec,
  data: Buffer,
  onChunk: (chunk: Uint8Array) => void,
  maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): void {
  if (codec !== 'zstd') {
    onChunk(decompressRecordsSync(codec, data, maxBytes));
    return;
  }
  let stopped: { error: unknown } | null = null;
  try {
    zstdStream(data, maxBytes, (chunk) => {
      try {
        onChunk(chunk);
      } catch (error) {
        stopped = { error };
        throw error;
      }
    });
  } catch (error) {
    if (stopped) throw (stopped as { error: unknown }).error;
    throw failure(codec, error);
  }
}

function checkSize(codec: CompressionCodec, out: Buffer, maxBytes: number): Buffer {
  if (out.length > maxBytes) throw tooLarge(codec, maxBytes);
  return out;
}

/**
 * The records section of a batch compressed with `codec`, decompressed on the calling thread (the broker's
 * produce validation). Throws `CROUPIER_ERR_BATCH_DECOMPRESS` when the bytes are not valid for the codec or
 * decompress to more than `maxBytes`.
 */
export function decompressRecordsSync(
  codec: CompressionCodec,
  data: Buffer,
  maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Buffer {
  try {
    switch (codec) {
      case 'none':
        return data;
      case 'gzip':
        return gunzipSync(data, { maxOutputLength: maxBytes });
      case 'snappy': {
        const blocks = snappyBlocks(data);
        checkSnappyLength(blocks, maxBytes);
        const out = blocks.map((b) => asBuffer(uncompressSync(b) as Uint8Array));
        return out.length === 1 ? out[0]! : Buffer.concat(out);
      }
      case 'lz4':
        checkLz4Bound(data, maxBytes);
        return checkSize('lz4', decompressFrameSync(data), maxBytes);
      case 'zstd':
        return zstdDecompress(data, maxBytes);
    }
  } catch (error) {
    throw failure(codec, error);
  }
}

/**
 * The records section of a batch compressed with `codec`, decompressed off the event loop where the codec
 * allows (gzip, snappy and lz4 run on libuv's thread pool; zstd runs here). Throws as
 * `decompressRecordsSync` does.
 */
export async function decompressRecords(
  codec: CompressionCodec,
  data: Buffer,
  maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Promise<Buffer> {
  try {
    switch (codec) {
      case 'none':
        return data;
      case 'gzip':
        return await gunzipAsync(data, { maxOutputLength: maxBytes });
      case 'snappy': {
        const blocks = snappyBlocks(data);
        checkSnappyLength(blocks, maxBytes);
        const out = await Promise.all(
          blocks.map(async (b) => asBuffer((await snappyUncompress(b)) as Uint8Array)),
        );
        return out.length === 1 ? out[0]! : Buffer.concat(out);
      }
      case 'lz4':
        checkLz4Bound(data, maxBytes);
        return checkSize('lz4', await lz4Decompress(data), maxBytes);
      case 'zstd':
        return zstdDecompress(data, maxBytes);
    }
  } catch (error) {
    throw failure(codec, error);
  }
}

/**
 * The records section compressed with `codec` (raw Snappy, as librdkafka writes it; an LZ4 frame). zstd is
 * refused with `CROUPIER_ERR_COMPRESSION_UNSUPPORTED`: croupier reads it but writes gzip, snappy or lz4.
 */
export async function compressRecords(codec: CompressionCodec, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case 'none':
      return data;
    case 'gzip':
      return gzipAsync(data);
    case 'snappy':
      return snappyCompress(data);
    case 'lz4':
      return lz4Compress(data);
    case 'zstd':
      throw new CroupierError(
        'CROUPIER_ERR_COMPRESSION_UNSUPPORTED',
        'croupier reads zstd record batches but does not write them: produce with gzip, snappy or lz4',
        { codec },
      );
  }
}
