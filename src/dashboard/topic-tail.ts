/**
 * The dashboard's own reader of the topics: a kafkajs consumer in a group of its own (a random name, offsets
 * never committed), from the beginning of each topic, decoding clickstream records with the event codec and
 * counting the others. It runs only after somebody opened the dashboard; a record that does not decode is
 * counted and skipped.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { EventCodec } from '../kafka/index.ts';
import type { Logger } from '../log/logger.ts';
import type { StartTopicTail, TailedRecord } from './sources.ts';

export interface TopicTailOptions {
  kafka: Kafka;
  codec: Pick<EventCodec, 'decode' | 'decodeSync'>;
  /** The clickstream topic, whose records are decoded. */
  clickstream: string;
  /** Topics only counted (the CDC topics). */
  counted: readonly string[];
  logger: Logger;
}

/** A `StartTopicTail` over kafkajs. */
export function kafkaTopicTail(options: TopicTailOptions): StartTopicTail {
  return async (onRecord) => {
    const { kafka, codec, logger } = options;
    const consumer = kafka.consumer({ groupId: `croupier-dashboard-${randomUUID()}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [options.clickstream, ...options.counted], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const decode = batch.topic === options.clickstream;
          for (const message of batch.messages) {
            const record: TailedRecord = { topic: batch.topic, timestamp: Number(message.timestamp) };
            if (decode && message.value !== null) {
              try {
                const event = codec.decodeSync(message.value) ?? (await codec.decode(message.value));
                record.event = {
                  schemaName: event.schemaName,
                  value: event.value as unknown as Record<string, unknown>,
                };
              } catch (error) {
                logger.debug({ err: error }, 'dashboard: a clickstream record did not decode');
              }
            }
            onRecord(record);
          }
        },
      });
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    return { close: () => consumer.disconnect() };
  };
}
