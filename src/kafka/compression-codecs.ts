/**
 * kafkajs reads gzip batches on its own; snappy, lz4 and zstd need a codec registered in its process-wide
 * `CompressionCodecs` table, or a consumer that fetches such a batch (a real Kafka cluster serves them as the
 * producer compressed them) fails its whole fetch, again and again. `createKafka` registers croupier's codecs
 * (src/compression) before it builds a client, so every consumer and producer croupier makes can read them.
 */
// Node's ESM loader does not see CompressionCodecs among kafkajs' CommonJS exports: take it from the default.
import kafkajs from 'kafkajs';
import {
  type CompressionCodec,
  compressRecords,
  decompressRecords,
} from '../compression/record-batch-codecs.ts';

/** The codec object kafkajs asks for: `compress({ buffer })` and `decompress(buffer)`, both async. */
function kafkajsCodec(codec: CompressionCodec) {
  const instance = {
    compress: (encoder: { buffer: Buffer }) => compressRecords(codec, encoder.buffer),
    decompress: (buffer: Buffer) => decompressRecords(codec, buffer),
  };
  return () => instance;
}

/** Registers the snappy, lz4 and zstd codecs with kafkajs (idempotent). */
export function registerCompressionCodecs(): void {
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  CompressionCodecs[CompressionTypes.Snappy] = kafkajsCodec('snappy');
  CompressionCodecs[CompressionTypes.LZ4] = kafkajsCodec('lz4');
  CompressionCodecs[CompressionTypes.ZSTD] = kafkajsCodec('zstd');
}
