/**
 * kafkajs 2.2.4 gathers the records of a fetched partition with `records.push(...recordBatch.records)`: a batch
 * of more than about 120,000 records overflows the call stack, and the consumer stops for good
 * (`KafkaJSNonRetriableError: Maximum call stack size exceeded`), every partition of its fetch with it. Kafka
 * takes such a batch: within its 1 MB limit a compressed batch of small records holds 650,000 of them. This puts
 * in place of kafkajs' `decodeMessages` (Fetch v4 and later) the same decoding with the records gathered in a
 * loop. kafkajs loads a Fetch response module when it first builds that request, so the replacement is in place
 * for every client made after `createKafka` ran; response modules loaded before it are loaded again.
 *
 * A batch kafkajs cannot decode (corrupt bytes, a codec it does not know, a compressed batch over the
 * decompression limit) failed the whole fetch of its partition, again and again: the consumer could never move
 * past it. Such a batch now becomes one stand-in record at the batch's last offset, with the batch's bytes as
 * its value and what went wrong attached (`undecodableBatchOf`), so the consumer moves on and can dead-letter it.
 *
 * kafkajs does not check a batch's CRC-32C either, so a batch whose bytes changed after the producer wrote
 * them (a disk or a broker that corrupted it) was read as it came: the changed values folded into state. Each
 * whole batch of a fetch is now checked, as Kafka's own consumer does (`check.crcs`), and one that fails
 * becomes an undecodable batch like the others.
 */
import { createRequire } from 'node:module';
import { crc32c } from '../compression/crc32c.ts';

const require = createRequire(import.meta.url);
const FETCH = 'kafkajs/src/protocol/requests/fetch';
const RESPONSE_VERSIONS = [4, 5, 6, 7, 8, 9, 10, 11];
/** What kafkajs' fetch/v4/decodeMessages.js names the same way (the records of a v2 batch start after 49 bytes). */
const MAGIC_OFFSET = 16;
const RECORD_BATCH_OVERHEAD = 49;
/** Where a v2 batch's header fields start: baseOffset int64, length int32 (of what follows it), ... */
const LENGTH_OFFSET = 8;
const LOG_OVERHEAD = 12;
const LAST_OFFSET_DELTA_OFFSET = 23;
const FIRST_TIMESTAMP_OFFSET = 27;
/** The CRC-32C field of a v2 batch, and where the bytes it covers start (attributes, to the end of the batch). */
const CRC_OFFSET = 17;
const CRC_FROM = 21;

/** A record batch the consumer could not decode: its offsets, why, and its bytes (the stand-in's value). */
export interface UndecodableBatch {
  firstOffset: number;
  lastOffset: number;
  reason: string;
}

const UNDECODABLE = Symbol('croupier.undecodableBatch');

/** The stand-in of an undecodable batch, as kafkajs hands the records of a fetch on (a plain object). */
interface StandIn {
  [UNDECODABLE]: UndecodableBatch;
}

/**
 * What the record (a kafkajs message of a fetched batch) stands in for, when it stands in for a record batch
 * that could not be decoded; null for any record that came from Kafka. No producer can forge it: it is not a
 * header but a property only this module sets.
 */
export function undecodableBatchOf(message: object): UndecodableBatch | null {
  return (message as Partial<StandIn>)[UNDECODABLE] ?? null;
}

/**
 * The stand-in of the batch at `start` of `buffer` (whole: its length field fits within the buffer and covers
 * at least a header), or null when its header is too broken to say where it ends and which offsets it holds.
 */
function standInFor(buffer: Buffer, start: number, error: unknown): { record: StandIn; end: number } | null {
  const length = buffer.readInt32BE(start + LENGTH_OFFSET);
  const end = start + LOG_OVERHEAD + length;
  const lastOffsetDelta = buffer.readInt32BE(start + LAST_OFFSET_DELTA_OFFSET);
  if (length < RECORD_BATCH_OVERHEAD || end > buffer.length || lastOffsetDelta < 0) return null;
  const firstOffset = Number(buffer.readBigInt64BE(start));
  const lastOffset = firstOffset + lastOffsetDelta;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // The shape of a kafkajs record (recordBatch/record/v0/decoder.js), so every consumer reads it as one.
  const record = {
    magicByte: 2,
    attributes: 0,
    timestamp: buffer.readBigInt64BE(start + FIRST_TIMESTAMP_OFFSET).toString(),
    offset: String(lastOffset),
    key: null,
    value: Buffer.from(buffer.subarray(start, end)),
    headers: {},
    isControlRecord: false,
    batchContext: {
      firstOffset: String(firstOffset),
      lastOffsetDelta,
      inTransaction: false,
      producerId: '-1',
    },
    [UNDECODABLE]: { firstOffset, lastOffset, reason },
  };
  return { record, end };
}

/**
 * Throws when the whole v2 batch at `start` does not match its CRC-32C; a batch the buffer holds only part of
 * (a fetch cut at its byte limit) is left to the decoder, which reads it again in the next fetch.
 */
function checkCrc(buffer: Buffer, start: number): void {
  const end = start + LOG_OVERHEAD + buffer.readInt32BE(start + LENGTH_OFFSET);
  if (end > buffer.length || end < start + RECORD_BATCH_OVERHEAD) return;
  const stored = buffer.readUInt32BE(start + CRC_OFFSET);
  const computed = crc32c(buffer, start + CRC_FROM, end);
  if (stored !== computed) {
    throw new Error(
      `CRC-32C mismatch: the batch says ${stored.toString(16).padStart(8, '0')}, its bytes give ${computed.toString(16).padStart(8, '0')} (changed after it was written)`,
    );
  }
}

interface KafkajsDecoder {
  offset: number;
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
      const start = messagesDecoder.offset;
      try {
        checkCrc(messagesBuffer, start);
        const batch = await RecordBatchDecoder(messagesDecoder);
        for (const record of batch.records) records.push(record);
      } catch (error) {
        // A partial batch at the end of a fetch (maxBytes cut it): read again by the next fetch.
        if ((error as Error).name === 'KafkaJSPartialMessageError') break;
        const standIn = standInFor(messagesBuffer, start, error);
        if (standIn === null) throw error;
        records.push(standIn.record);
        messagesDecoder.offset = standIn.end;
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
