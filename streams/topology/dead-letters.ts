/**
 * The topology's dead-letter sender: refused records go to the dead-letter topic with their original bytes,
 * position and why, written before the state of their batch, and counted per partition and error code.
 *
 * A dead letter holds the record's key and value and is keyed by the record's key, so a record near Kafka's
 * 1 MB limit would make one far over it, which no broker takes: the send would fail on every retry and the
 * partition would never move again. So a long key is replaced by its SHA-256 as the dead letter's Kafka key,
 * a dead letter is kept under `maxBytes` by cutting the value (then the key) it carries, saying so in its
 * message (the whole record stays at its topic, partition and offset), and dead letters go in sends of at most
 * `maxBytes` together.
 */
import { createHash } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { type EventCodec, MAX_SEND_BYTES, sendGroups } from '../../src/kafka/index.ts';
import { partitionKeyOf } from '../assignment.ts';
import type { StreamMetrics } from '../metrics.ts';
import type { ChunkWithRefused } from '../operators/produce-dead-letters.ts';
import type { DeadLetter } from '../schemas/index.ts';

export type DeadLetterSender = (chunk: ChunkWithRefused) => Promise<void>;

/**
 * Largest dead letter (Kafka key and value together), and largest send: under Kafka's default
 * `max.message.bytes` (1,048,588) with room for the batch and record headers around it.
 */
export const MAX_DEAD_LETTER_BYTES = MAX_SEND_BYTES;
/** A record key longer than this is replaced by its SHA-256 as the dead letter's Kafka key. */
const MAX_KAFKA_KEY_BYTES = 1024;

function kafkaKeyOf(key: Buffer | null): Buffer | null {
  return key !== null && key.length > MAX_KAFKA_KEY_BYTES ? createHash('sha256').update(key).digest() : key;
}

export function deadLetterSender(deps: {
  codec: Pick<EventCodec, 'encode'>;
  producer: Producer;
  /** The dead-letter topic. */
  topic: string;
  metrics: StreamMetrics;
  maxBytes?: number;
}): DeadLetterSender {
  const { codec, producer, topic, metrics } = deps;
  const maxBytes = deps.maxBytes ?? MAX_DEAD_LETTER_BYTES;

  /** The dead letter encoded within `budget` bytes, its value and then its key cut if need be. */
  async function encodeWithin(letter: DeadLetter, budget: number): Promise<Buffer> {
    let encoded = await codec.encode(topic, 'DeadLetter', letter);
    const fullValue = letter.value ?? null;
    const fullKey = letter.key ?? null;
    let value = fullValue;
    let key = fullKey;
    for (let attempt = 0; encoded.length > budget && attempt < 4; attempt++) {
      let over = encoded.length - budget + 64;
      if (value !== null && value.length > 0) {
        const cut = Math.min(value.length, over);
        value = value.subarray(0, value.length - cut);
        over -= cut;
      }
      if (over > 0 && key !== null && key.length > 0) key = key.subarray(0, Math.max(0, key.length - over));
      const note =
        ` (dead letter cut to fit: value ${value?.length ?? 0} of ${fullValue?.length ?? 0} bytes, key ` +
        `${key?.length ?? 0} of ${fullKey?.length ?? 0}; the whole record is at ${letter.topic}:` +
        `${letter.partition}@${letter.offset})`;
      encoded = await codec.encode(topic, 'DeadLetter', {
        ...letter,
        key,
        value,
        errorMessage: letter.errorMessage.slice(0, 4096) + note,
      });
    }
    return encoded;
  }

  return async (chunk) => {
    const now = Date.now();
    const messages = await Promise.all(
      chunk.refused.map(async (r) => {
        const key = kafkaKeyOf(r.raw.key);
        const value = await encodeWithin(
          {
            topic: chunk.tp.topic,
            partition: chunk.tp.partition,
            offset: r.raw.offset,
            key: r.raw.key,
            value: r.raw.value,
            errorCode: r.code,
            errorMessage: r.message,
            timestamp: now,
          },
          maxBytes - (key?.length ?? 0),
        );
        return { key, value };
      }),
    );
    for (const group of sendGroups(messages, maxBytes))
      await producer.send({ topic, acks: -1, messages: group });
    const key = partitionKeyOf(chunk.tp.topic, chunk.tp.partition);
    for (const r of chunk.refused) metrics.deadLettered(key, r.raw.offset, r.code);
  };
}
