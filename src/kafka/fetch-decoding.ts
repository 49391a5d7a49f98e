/**
 * kafkajs 2.2.4 gathers the records of a fetched partition with `records.push(...recordBatch.records)`: a batch
 * of more than about 120,000 records overflows the call stack, and the consumer stops for good
 * (`KafkaJSNonRetriableError: Maximum call stack size exceeded`), every partition of its fetch with it. Kafka
 * takes such a batch: within its 1 MB limit a compressed batch of small records holds 650,000 of them. This puts
 * in place of kafkajs' `decodeMessages` (Fetch v4 and later) the same decoding with the records gathered in a
 * loop. kafkajs loads a Fetch response module when it first builds that request, so the replacement is in place
 * for every client made after `createKafka` ran; response modules loaded before it are loaded again.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const FETCH = 'kafkajs/src/protocol/requests/fetch';
const RESPONSE_VERSIONS = [4, 5, 6, 7, 8, 9, 10, 11];
/** What kafkajs' fetch/v4/decodeMessages.js names the same way (the records of a v2 batch start after 49 bytes). */
const MAGIC_OFFSET = 16;
const RECORD_BATCH_OVERHEAD = 49;

interface KafkajsDecoder {
  readInt32(): number;
  canReadBytes(n: number): boolean;
  readBytes(n: number): Buffer;
}

type DecodeMessages = ((decoder: KafkajsDecoder) => Promise<unknown[]>) & { croupier?: true };

/** Replaces kafkajs' decodeMessages once per process (idempotent). */
export function replaceFetchRecordGathering(): void {
  const path = require.resolve(`${FETCH}/v4/decodeMessages.js`);
  const original = require(path) as DecodeMessages;
  if (original.croupier) return;
  const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => KafkajsDecoder;
  const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
    decoder: KafkajsDecoder,
  ) => Promise<{ records: unknown[] }>;
  const MessageSetDecoder = require('kafkajs/src/protocol/messageSet/decoder.js') as (
    decoder: KafkajsDecoder,
    size: number,
  ) => Promise<unknown[]>;
  const { MAGIC_BYTE } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { MAGIC_BYTE: number };

  const decodeMessages: DecodeMessages = async (decoder) => {
    const messagesSize = decoder.readInt32();
    if (messagesSize <= 0 || !decoder.canReadBytes(messagesSize)) return [];
    const messagesBuffer = decoder.readBytes(messagesSize);
    const messagesDecoder = new Decoder(messagesBuffer);
    if (messagesBuffer.readInt8(MAGIC_OFFSET) !== MAGIC_BYTE) {
      return MessageSetDecoder(messagesDecoder, messagesSize);
    }
    const records: unknown[] = [];
    while (messagesDecoder.canReadBytes(RECORD_BATCH_OVERHEAD)) {
      try {
        const batch = await RecordBatchDecoder(messagesDecoder);
        for (const record of batch.records) records.push(record);
      } catch (error) {
        // A partial batch at the end of a fetch (maxBytes cut it): read again by the next fetch.
        if ((error as Error).name === 'KafkaJSPartialMessageError') break;
        throw error;
      }
    }
    return records;
  };
  decodeMessages.croupier = true;
  require.cache[path]!.exports = decodeMessages;
  for (const version of RESPONSE_VERSIONS) {
    const response = require.resolve(`${FETCH}/v${version}/response.js`);
    delete require.cache[response];
  }
}
