/**
 * Publishes the world's CDC records to Kafka the way a Debezium connector would: `cdc.items` keyed by
 * itemId, `cdc.users` keyed by userId, Avro in the Confluent wire format through the schema registry.
 */
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { EventCodec } from '../../src/kafka/index.ts';
import type { ItemChange, UserChange } from '../../streams/schemas/index.ts';
import type { CdcPublisher } from './gateway-driver.ts';

export interface KafkaCdcPublisherOptions {
  kafka: Kafka;
  codec: Pick<EventCodec, 'encode'>;
  topics: { cdcItems: string; cdcUsers: string };
  /** Partitions of the CDC topics when they have to be created. */
  partitions: number;
}

export interface KafkaCdcPublisher extends CdcPublisher {
  close(): Promise<void>;
}

export async function createKafkaCdcPublisher(options: KafkaCdcPublisherOptions): Promise<KafkaCdcPublisher> {
  const { kafka, codec, topics } = options;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [topics.cdcItems, topics.cdcUsers].filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: options.partitions })),
      });
    }
  } finally {
    await admin.disconnect();
  }
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return {
    async publish(records) {
      const items: { key: string; value: Buffer }[] = [];
      const users: { key: string; value: Buffer }[] = [];
      for (const record of records) {
        if (record.topic === 'items') {
          items.push({
            key: record.key,
            value: await codec.encode(topics.cdcItems, 'ItemChange', record.value as ItemChange),
          });
        } else {
          users.push({
            key: record.key,
            value: await codec.encode(topics.cdcUsers, 'UserChange', record.value as UserChange),
          });
        }
      }
      const batch = [
        ...(items.length > 0 ? [{ topic: topics.cdcItems, messages: items }] : []),
        ...(users.length > 0 ? [{ topic: topics.cdcUsers, messages: users }] : []),
      ];
      if (batch.length > 0) await producer.sendBatch({ topicMessages: batch });
    },
    close: () => producer.disconnect(),
  };
}
