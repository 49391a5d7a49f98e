/**
 * The topology's dead-letter sender: refused records go to the dead-letter topic with their original bytes,
 * position and why, written before the state of their batch, and counted per partition and error code.
 */
import type { Producer } from 'kafkajs';
import type { EventCodec } from '../../src/kafka/index.ts';
import { partitionKeyOf } from '../assignment.ts';
import type { StreamMetrics } from '../metrics.ts';
import type { ChunkWithRefused } from '../operators/produce-dead-letters.ts';

export type DeadLetterSender = (chunk: ChunkWithRefused) => Promise<void>;

export function deadLetterSender(deps: {
  codec: Pick<EventCodec, 'encode'>;
  producer: Producer;
  /** The dead-letter topic. */
  topic: string;
  metrics: StreamMetrics;
}): DeadLetterSender {
  const { codec, producer, topic, metrics } = deps;
  return async (chunk) => {
    const now = Date.now();
    const messages = await Promise.all(
      chunk.refused.map(async (r) => ({
        key: r.raw.key,
        value: await codec.encode(topic, 'DeadLetter', {
          topic: chunk.tp.topic,
          partition: chunk.tp.partition,
          offset: r.raw.offset,
          key: r.raw.key,
          value: r.raw.value,
          errorCode: r.code,
          errorMessage: r.message,
          timestamp: now,
        }),
      })),
    );
    await producer.send({ topic, acks: -1, messages });
    const key = partitionKeyOf(chunk.tp.topic, chunk.tp.partition);
    for (const r of chunk.refused) metrics.deadLettered(key, r.raw.offset, r.code);
  };
}
