/**
 * kafkajs 2.2.4 end to end against the in-process broker: admin, plain and idempotent producers, consumers
 * (eachMessage, eachBatch, seek, pause/resume, committed offsets), with kafkajs's default read_committed.
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { FAST_GROUP, kafkaClient, unique, waitFor } from './support/kafka.ts';

describe('kafkajs against the embedded broker', () => {
  let broker: TestBroker;
  let kafka: Kafka;

  beforeAll(async () => {
    broker = await startTestBroker();
    kafka = kafkaClient(broker.brokers);
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('admin: createTopics, listTopics, fetchTopicMetadata, fetchTopicOffsets, deleteTopics', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = unique('admin');
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] })).toBe(true);
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] })).toBe(false);
      expect(await admin.listTopics()).toContain(topic);
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0]!.partitions).toHaveLength(4);
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.map((o) => [o.partition, o.low, o.high])).toEqual([
        [0, '0', '0'],
        [1, '0', '0'],
        [2, '0', '0'],
        [3, '0', '0'],
      ]);
      await expect(
        admin.createTopics({ topics: [{ topic: unique('rf'), replicationFactor: 3 }] }),
      ).rejects.toMatchObject({ errors: [expect.objectContaining({ type: 'INVALID_REPLICATION_FACTOR' })] });
      await admin.deleteTopics({ topics: [topic] });
      expect(await admin.listTopics()).not.toContain(topic);
    } finally {
      await admin.disconnect();
    }
  });

  it('plain producer: offsets assigned per partition, keys/values/headers/timestamps come back', async () => {
    const topic = unique('plain');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    const first = await producer.send({
      topic,
      messages: [
        { partition: 0, key: 'k1', value: 'v1', headers: { h: 'x' }, timestamp: '1700000000000' },
        { partition: 0, key: null, value: 'v2' },
        { partition: 1, key: 'k3', value: null },
      ],
    });
    expect(first.map((r) => [r.partition, r.baseOffset])).toEqual([
      [0, '0'],
      [1, '0'],
    ]);
    const second = await producer.send({ topic, messages: [{ partition: 0, value: 'v4' }] });
    expect(second[0]!.baseOffset).toBe('2');
    expect((await admin.fetchTopicOffsets(topic)).map((o) => o.high)).toEqual(['3', '1']);

    const consumer = kafka.consumer({ groupId: unique('g'), ...FAST_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: { p: number; o: string; k: string | null; v: string | null; h?: string; ts: string }[] = [];
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({
          p: partition,
          o: message.offset,
          k: message.key?.toString() ?? null,
          v: message.value?.toString() ?? null,
          h: message.headers?.h?.toString(),
          ts: message.timestamp,
        });
      },
    });
    await waitFor(() => seen.length === 4, 10_000, 'four messages');
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
    seen.sort((a, b) => a.p - b.p || Number(a.o) - Number(b.o));
    expect(seen.map(({ p, o, k, v, h }) => ({ p, o, k, v, h }))).toEqual([
      { p: 0, o: '0', k: 'k1', v: 'v1', h: 'x' },
      { p: 0, o: '1', k: null, v: 'v2', h: undefined },
      { p: 0, o: '2', k: null, v: 'v4', h: undefined },
      { p: 1, o: '0', k: 'k3', v: null, h: undefined },
    ]);
    expect(seen[0]!.ts).toBe('1700000000000');
  });

  it('idempotent producer: sequences accepted, compressed batches stored as sent', async () => {
    const { CompressionTypes } = await import('kafkajs');
    const topic = unique('idem');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < 5; i++) {
      await producer.send({
        topic,
        compression: i % 2 ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: Array.from({ length: 20 }, (_, j) => ({ key: String(j), value: `m${i}-${j}` })),
      });
    }
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    expect((await admin.fetchTopicOffsets(topic))[0]!.high).toBe('100');
    await admin.disconnect();

    const consumer = kafka.consumer({ groupId: unique('g'), ...FAST_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await waitFor(() => values.length === 100, 10_000, '100 messages');
    await consumer.disconnect();
    expect(values[0]).toBe('m0-0');
    expect(values[99]).toBe('m4-19');
    expect(new Set(values).size).toBe(100);
  });

  it('idempotent producer: a topic deleted and made again takes its next sends, as Kafka does', async () => {
    // Kafka (2.5 on) accepts any sequence from a producer a partition holds no state of: after the topic is made
    // again, a running producer goes on from its own sequence numbers, and they must be written.
    const topic = unique('idem-remade');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 2 } });
    await producer.connect();
    try {
      for (let i = 0; i < 3; i++) await producer.send({ topic, messages: [{ value: `old-${i}` }] });
      await admin.deleteTopics({ topics: [topic] });
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      await producer.send({ topic, messages: [{ value: 'new-0' }, { value: 'new-1' }] });
      await producer.send({ topic, messages: [{ value: 'new-2' }] });
      expect((await admin.fetchTopicOffsets(topic))[0]).toMatchObject({ low: '0', high: '3' });
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('consumer: eachBatch, commits, fetchOffsets and setOffsets', async () => {
    const topic = unique('batch');
    const groupId = unique('g');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 50 }, (_, i) => ({ value: `m${i}` })) });

    const consumer = kafka.consumer({ groupId, ...FAST_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let count = 0;
    await consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, heartbeat }) => {
        count += batch.messages.length;
        await heartbeat();
      },
    });
    await waitFor(() => count === 50, 10_000, 'batch of 50');
    await consumer.commitOffsets([{ topic, partition: 0, offset: '50' }]);
    await consumer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed[0]!.partitions[0]!.offset).toBe('50');
    const none = await admin.fetchOffsets({ groupId: unique('nobody'), topics: [topic] });
    expect(none[0]!.partitions[0]!.offset).toBe('-1');

    // setOffsets on the (now empty) group, then a new consumer starts there.
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '45' }] });
    expect((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset).toBe('45');
    const again = kafka.consumer({ groupId, ...FAST_GROUP });
    await again.connect();
    await again.subscribe({ topic });
    const offsets: string[] = [];
    await again.run({ eachMessage: async ({ message }) => void offsets.push(message.offset) });
    await waitFor(() => offsets.length === 5, 10_000, 'five messages from offset 45');
    expect(offsets).toEqual(['45', '46', '47', '48', '49']);
    await again.disconnect();

    const groups = await admin.listGroups();
    expect(groups.groups.map((g) => g.groupId)).toContain(groupId);
    const described = await admin.describeGroups([groupId]);
    expect(described.groups[0]!.state).toBe('Empty');
    await admin.disconnect();
    await producer.disconnect();
  });

  it('consumer: seek and pause/resume', async () => {
    const topic = unique('seek');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}` })) });

    const consumer = kafka.consumer({ groupId: unique('g'), ...FAST_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const offsets: string[] = [];
    let seeked = false;
    await consumer.run({
      eachMessage: async ({ message }) => {
        offsets.push(message.offset);
        if (message.offset === '9' && !seeked) {
          seeked = true;
          consumer.seek({ topic, partition: 0, offset: '7' });
        }
      },
    });
    await waitFor(() => offsets.length === 13, 10_000, 'seek replay');
    expect(offsets.slice(10)).toEqual(['7', '8', '9']);

    consumer.pause([{ topic }]);
    expect(consumer.paused()).toEqual([{ topic, partitions: [0] }]);
    await producer.send({ topic, messages: [{ value: 'while-paused' }] });
    await new Promise((r) => setTimeout(r, 400));
    expect(offsets).toHaveLength(13);
    consumer.resume([{ topic }]);
    await waitFor(() => offsets.length === 14, 10_000, 'message after resume');
    expect(offsets[13]).toBe('10');
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('ListOffsets by timestamp through admin.fetchTopicOffsetsByTimestamp', async () => {
    const topic = unique('ts');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { value: 'a', timestamp: '1000' },
        { value: 'b', timestamp: '2000' },
        { value: 'c', timestamp: '3000' },
      ],
    });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    expect((await admin.fetchTopicOffsetsByTimestamp(topic, 1500))[0]!.offset).toBe('1');
    expect((await admin.fetchTopicOffsetsByTimestamp(topic, 3000))[0]!.offset).toBe('2');
    // Past the last record: Kafka answers -1 and kafkajs falls back to the high watermark.
    expect((await admin.fetchTopicOffsetsByTimestamp(topic, 9000))[0]!.offset).toBe('3');
    await admin.disconnect();
  });
});
