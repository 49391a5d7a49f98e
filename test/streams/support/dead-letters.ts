/** Reads the first `count` records of a dead-letter topic, decoded, with a fresh consumer group. */
import type { DeadLetter } from '../../../streams/schemas/index.ts';
import type { KafkaStack } from './stack.ts';

export async function readDeadLetters(
  stack: KafkaStack,
  topic: string,
  count: number,
): Promise<DeadLetter[]> {
  const consumer = stack.kafka.consumer({ groupId: `dlq-reader-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const letters: DeadLetter[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${letters.length} of ${count} dead letters`)),
      30_000,
    );
    consumer
      .run({
        eachMessage: async ({ message }) => {
          const decoded = await stack.codec.decode(message.value!);
          letters.push(decoded.value as DeadLetter);
          if (letters.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return letters;
}
