/**
 * A consumer-group member in its own process, for crash tests: joins `GROUP` on `TOPIC` at `BROKERS`,
 * prints `assigned <json>` on every group join and `message <partition> <offset>` per message, until killed.
 */
import { Kafka, logLevel } from 'kafkajs';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const [brokers, groupId, topic] = [process.env.BROKERS!, process.env.GROUP!, process.env.TOPIC!];
const kafka = new Kafka({
  clientId: 'child-member',
  brokers: brokers.split(','),
  logLevel: logLevel.NOTHING,
});
const consumer = kafka.consumer({
  groupId,
  sessionTimeout: 1500,
  rebalanceTimeout: 3000,
  heartbeatInterval: 100,
  maxWaitTimeInMs: 100,
});
consumer.on(consumer.events.GROUP_JOIN, (e) => {
  process.stdout.write(`assigned ${JSON.stringify(e.payload.memberAssignment)}\n`);
});
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ partition, message }) => {
    process.stdout.write(`message ${partition} ${message.offset}\n`);
  },
});
