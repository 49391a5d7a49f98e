/**
 * Transactions with kafkajs: commit and abort, read_committed vs read_uncommitted consumers, the last stable
 * offset holding read_committed consumers behind an open transaction, transactional offsets (sendOffsets)
 * invisible until commit, and InitProducerId fencing a zombie producer.
 */
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { FAST_GROUP, kafkaClient, unique, waitFor } from './support/kafka.ts';

describe('transactions', () => {
  let broker: TestBroker;
  let kafka: Kafka;

  beforeAll(async () => {
    broker = await startTestBroker();
    kafka = kafkaClient(broker.brokers);
  });
  afterAll(async () => {
    await broker?.close();
  });

  async function txProducer(transactionalId: string): Promise<Producer> {
    const p = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    return p;
  }

  async function consumeAll(topic: string, readUncommitted: boolean, expected: number): Promise<string[]> {
    const consumer = kafka.consumer({ groupId: unique('g'), readUncommitted, ...FAST_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await waitFor(() => values.length >= expected, 10_000, `${expected} messages`);
    await new Promise((r) => setTimeout(r, 200)); // nothing more arrives
    await consumer.disconnect();
    return values;
  }

  it('commit and abort: read_committed sees only committed records, read_uncommitted sees all', async () => {
    const topic = unique('txn');
    const producer = await txProducer(unique('tx'));
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'c1' }, { value: 'c2' }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'a1' }, { value: 'a2' }] });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic, messages: [{ value: 'c3' }] });
    await last.commit();
    await producer.disconnect();

    expect(await consumeAll(topic, false, 3)).toEqual(['c1', 'c2', 'c3']);
    expect(await consumeAll(topic, true, 5)).toEqual(['c1', 'c2', 'a1', 'a2', 'c3']);

    // 5 data records + 3 control records.
    const admin = kafka.admin();
    await admin.connect();
    expect((await admin.fetchTopicOffsets(topic))[0]!.high).toBe('8');
    await admin.disconnect();
  });

  it('an open transaction holds read_committed consumers at the last stable offset', async () => {
    const topic = unique('lso');
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic, messages: [{ value: 'before' }] });
    const producer = await txProducer(unique('tx'));
    const open = await producer.transaction();
    await open.send({ topic, messages: [{ value: 'pending' }] });
    await plain.send({ topic, messages: [{ value: 'after' }] });

    const consumer = kafka.consumer({ groupId: unique('g'), ...FAST_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await waitFor(() => values.length === 1, 10_000, 'first record');
    await new Promise((r) => setTimeout(r, 300));
    expect(values).toEqual(['before']);
    expect((await consumeAll(topic, true, 3)).sort()).toEqual(['after', 'before', 'pending']);

    await open.commit();
    await waitFor(() => values.length === 3, 10_000, 'records after commit');
    expect(values).toEqual(['before', 'pending', 'after']);
    await consumer.disconnect();
    await producer.disconnect();
    await plain.disconnect();
  });

  it('sendOffsets: transactional offsets are invisible until commit and dropped on abort', async () => {
    const topic = unique('offs');
    const groupId = unique('g');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const fetched = async () =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset;

    const producer = await txProducer(unique('tx'));
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'x' }] });
    await aborted.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic, partitions: [{ partition: 0, offset: '7' }] }],
    });
    expect(await fetched()).toBe('-1');
    await aborted.abort();
    expect(await fetched()).toBe('-1');

    const txn = await producer.transaction();
    await txn.send({ topic, messages: [{ value: 'y' }] });
    await txn.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic, partitions: [{ partition: 0, offset: '9' }] }],
    });
    expect(await fetched()).toBe('-1');
    await txn.commit();
    expect(await fetched()).toBe('9');
    await producer.disconnect();
    await admin.disconnect();
  });

  it('InitProducerId fences the previous producer and aborts its open transaction', async () => {
    const topic = unique('fence');
    const transactionalId = unique('tx');
    const zombie = await txProducer(transactionalId);
    const zombieTxn = await zombie.transaction();
    await zombieTxn.send({ topic, messages: [{ value: 'zombie' }] });

    const successor = await txProducer(transactionalId);
    const txn = await successor.transaction(); // InitProducerId: bumps the epoch, aborts the zombie's transaction
    await expect(zombieTxn.send({ topic, messages: [{ value: 'late' }] })).rejects.toThrow();
    await expect(zombieTxn.commit()).rejects.toThrow();

    await txn.send({ topic, messages: [{ value: 'successor' }] });
    await txn.commit();
    expect(await consumeAll(topic, false, 1)).toEqual(['successor']);
    await successor.disconnect();
    await zombie.disconnect().catch(() => undefined);
  });
});
