/** Creates croupier's topics (idempotently) and registers every contract with the schema registry. */
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/index.ts';
import type { EventCodec } from '../kafka/index.ts';

export async function prepareTopicsAndSchemas(
  config: Readonly<Config>,
  kafka: Kafka,
  codec: Pick<EventCodec, 'registerAll'>,
): Promise<void> {
  const topics = config.kafka.topics;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [topics.clickstream, topics.cdcItems, topics.cdcUsers, topics.deadLetter].map((topic) => ({
        topic,
        numPartitions: config.kafka.partitions,
      })),
    });
  } finally {
    await admin.disconnect();
  }
  await codec.registerAll(topics);
}

/** Basic auth for the schema registry, when the config has both halves. */
export function registryAuth(config: Readonly<Config>): { username: string; password: string } | undefined {
  const { username, password } = config.schemaRegistry;
  return username && password ? { username, password } : undefined;
}
