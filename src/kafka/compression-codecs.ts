/**
 * kafkajs reads gzip batches on its own; snappy, lz4 and zstd need a codec registered in its process-wide
 * `CompressionCodecs` table, or a consumer that fetches such a batch (a real Kafka cluster serves them as the
 * producer compressed them) fails its whole fetch, again and again. `createKafka` registers croupier's codecs
 * (src/compression) before it builds a client, so every consumer and producer croupier makes can read them.
 *
 * gzip is croupier's too: kafkajs' own gunzips a batch whole, however large (a batch of 64 KB on the wire can
 * hold gigabytes of zeros); croupier's stops at the decompression limit. And the attribute values Kafka has no
 * codec for (5-7) fail the batch: kafkajs read such a batch's compressed bytes as if they were records.
 */
// Node's ESM loader does not see CompressionCodecs among kafkajs' CommonJS exports: take it from the default.
import kafkajs from 'kafkajs';
import {
  type CompressionCodec,
  compressRecords,
  decompressRecords,
} from '../compression/record-batch-codecs.ts';
import { CroupierError } from '../errors/index.ts';

/** The codec object kafkajs asks for: `compress({ buffer })` and `decompress(buffer)`, both async. */
function kafkajsCodec(codec: CompressionCodec) {
  const instance = {
    compress: (encoder: { buffer: Buffer }) => compressRecords(codec, encoder.buffer),
    decompress: (buffer: Buffer) => decompressRecords(codec, buffer),
  };
  return () => instance;
}

/** The lookup of a codec attribute Kafka does not define: it fails the batch that names it. */
function unknownCodec(attribute: number) {
  return () => {
    throw new CroupierError(
      'CROUPIER_ERR_COMPRESSION_UNSUPPORTED',
      `a record batch names compression codec ${attribute}, which Kafka does not define (0-4)`,
      { codec: attribute },
    );
  };
}

/** Registers gzip, snappy, lz4 and zstd codecs with kafkajs, and refuses codecs 5-7 (idempotent). */
export function registerCompressionCodecs(): void {
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  const codecs = CompressionCodecs as Record<number, () => unknown>;
  CompressionCodecs[CompressionTypes.GZIP] = kafkajsCodec('gzip');
  CompressionCodecs[CompressionTypes.Snappy] = kafkajsCodec('snappy');
  CompressionCodecs[CompressionTypes.LZ4] = kafkajsCodec('lz4');
  CompressionCodecs[CompressionTypes.ZSTD] = kafkajsCodec('zstd');
  for (const attribute of [5, 6, 7]) codecs[attribute] = unknownCodec(attribute);
}
