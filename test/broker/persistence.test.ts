/**
 * --data-dir persistence: the broker runs as a child process via the CLI, is killed with SIGKILL, a torn
 * write is simulated at the end of a segment, and after a restart everything acknowledged is there:
 * records (across several segments), committed group offsets, transaction outcomes and producer state.
 */
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/broker/protocol/api-keys.ts';
import { startTestBroker } from '../support/broker.ts';
import { type CliBroker, kill9, startCliBroker } from './support/cli-broker.ts';
import { FAST_GROUP, kafkaClient, unique, waitFor } from './support/kafka.ts';
import { RawClient } from './support/raw-client.ts';

/** The CLI broker keeps Kafka's 6 s minimum session timeout. */
const CLI_GROUP = { ...FAST_GROUP, sessionTimeout: 6000, rebalanceTimeout: 6000 };

describe('--data-dir persistence', () => {
  const dirs: string[] = [];
  const children: CliBroker[] = [];
  afterAll(() => {
    for (const c of children) c.process.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('in process: close and reopen keeps topics, records, offsets', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'broker-data-'));
    dirs.push(dataDir);
    let broker = await startTestBroker({ dataDir });
    let kafka = kafkaClient(broker.brokers);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'kept', messages: [{ key: 'a', value: '1' }, { value: '2' }] });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.disconnect();
    // A simple (generation -1) OffsetCommit, as admin.setOffsets sends, without its consumer round trip.
    const raw = await RawClient.connect(broker.brokers[0]!);
    const commit = await raw.request(ApiKey.OffsetCommit, 2, (e) => {
      e.string('g')
        .int32(-1)
        .string('')
        .int64(-1)
        .int32(1)
        .string('kept')
        .int32(1)
        .int32(0)
        .int64(1)
        .nullableString(null);
    });
    commit.int32();
    commit.string();
    commit.int32();
    commit.int32();
    expect(commit.int16()).toBe(0);
    raw.close();
    await broker.close();

    broker = await startTestBroker({ dataDir });
    kafka = kafkaClient(broker.brokers);
    const admin2 = kafka.admin();
    await admin2.connect();
    expect((await admin2.fetchTopicOffsets('kept'))[0]!.high).toBe('2');
    expect((await admin2.fetchOffsets({ groupId: 'g', topics: ['kept'] }))[0]!.partitions[0]!.offset).toBe(
      '1',
    );
    await admin2.disconnect();
    const p2 = kafka.producer();
    await p2.connect();
    expect((await p2.send({ topic: 'kept', messages: [{ value: '3' }] }))[0]!.baseOffset).toBe('2');
    await p2.disconnect();
    await broker.close();
  });

  it("deletes the offsets of a group without members after the retention, keeps an active group's, and the deletion survives a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'broker-data-'));
    dirs.push(dataDir);
    const options = { dataDir, offsetsRetentionMs: 300 };
    let broker = await startTestBroker(options);
    let kafka = kafkaClient(broker.brokers);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'expiry', numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'expiry', messages: [{ value: '1' }, { value: '2' }] });
    await producer.disconnect();
    // A group that never had a member (offsets set from outside), and one whose consumer keeps running.
    await admin.setOffsets({
      groupId: 'made-up',
      topic: 'expiry',
      partitions: [{ partition: 0, offset: '1' }],
    });
    const consumer = kafka.consumer({ groupId: 'active', ...FAST_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic: 'expiry', fromBeginning: true });
    await consumer.run({ eachMessage: async () => undefined });
    const committed = async (groupId: string) =>
      (await admin.fetchOffsets({ groupId, topics: ['expiry'] }))[0]!.partitions[0]!.offset;
    await waitFor(async () => (await committed('active')) === '2', 15_000, 'the consumer to commit');
    expect(await committed('made-up')).toBe('1');

    await new Promise((resolve) => setTimeout(resolve, 600));
    broker.handle.broker.applyRetention(Date.now());
    expect(await committed('made-up')).toBe('-1');
    expect(await committed('active')).toBe('2');
    await consumer.disconnect();
    await admin.disconnect();
    await broker.close();

    broker = await startTestBroker(options);
    kafka = kafkaClient(broker.brokers);
    const admin2 = kafka.admin();
    await admin2.connect();
    expect(
      (await admin2.fetchOffsets({ groupId: 'made-up', topics: ['expiry'] }))[0]!.partitions[0]!.offset,
    ).toBe('-1');
    await admin2.disconnect();
    await broker.close();
  });

  it('CLI broker killed with SIGKILL: acknowledged records, group offsets and transactions survive', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'broker-kill-'));
    dirs.push(dataDir);
    let child = await startCliBroker(dataDir);
    children.push(child);
    let kafka = kafkaClient([child.address]);
    const admin = kafka.admin();
    await admin.connect();
    // Small segments, so recovery goes through closed segments (index) and the last one (scan).
    await admin.createTopics({
      topics: [
        { topic: 'events', numPartitions: 2, configEntries: [{ name: 'segment.bytes', value: '2048' }] },
        { topic: 'tx', numPartitions: 1 },
      ],
    });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < 20; i++) {
      await producer.send({
        topic: 'events',
        messages: Array.from({ length: 10 }, (_, j) => ({
          partition: (i + j) % 2,
          key: `k${i * 10 + j}`,
          value: `v${i * 10 + j}`,
        })),
      });
    }
    const groupId = unique('g');
    const consumer = kafka.consumer({ groupId, ...CLI_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic: 'events', fromBeginning: true });
    let consumed = 0;
    await consumer.run({ autoCommit: false, eachMessage: async () => void consumed++ });
    await waitFor(() => consumed === 200, 10_000, '200 consumed');
    await consumer.commitOffsets([
      { topic: 'events', partition: 0, offset: '60' },
      { topic: 'events', partition: 1, offset: '70' },
    ]);
    await consumer.disconnect();

    const committedTx = kafka.producer({
      transactionalId: 'tx-ok',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await committedTx.connect();
    const t1 = await committedTx.transaction();
    await t1.send({ topic: 'tx', messages: [{ value: 'c1' }, { value: 'c2' }] });
    await t1.commit();
    const openTx = kafka.producer({
      transactionalId: 'tx-open',
      maxInFlightRequests: 1,
      idempotent: true,
      transactionTimeout: 1500,
    });
    await openTx.connect();
    const t2 = await openTx.transaction();
    await t2.send({ topic: 'tx', messages: [{ value: 'open1' }, { value: 'open2' }] });

    await kill9(child);
    await Promise.allSettled([
      producer.disconnect(),
      committedTx.disconnect(),
      openTx.disconnect(),
      admin.disconnect(),
    ]);

    // A torn write at the end of partition 0's last segment.
    const p0 = join(dataDir, 'topics', 'events', '0');
    const segments = readdirSync(p0)
      .filter((f) => f.endsWith('.log'))
      .sort();
    expect(segments.length).toBeGreaterThan(1);
    appendFileSync(join(p0, segments[segments.length - 1]!), Buffer.from('00000000000000ff0000007f', 'hex'));

    child = await startCliBroker(dataDir);
    children.push(child);
    kafka = kafkaClient([child.address]);
    await waitFor(() => child.output().includes('torn tail'), 5000, 'torn tail log line');
    const admin2 = kafka.admin();
    await admin2.connect();
    expect((await admin2.fetchTopicOffsets('events')).map((o) => o.high)).toEqual(['100', '100']);
    const offsets = await admin2.fetchOffsets({ groupId, topics: ['events'] });
    expect(offsets[0]!.partitions.map((p) => [p.partition, p.offset])).toEqual([
      [0, '60'],
      [1, '70'],
    ]);

    const readAll = async (topic: string, readUncommitted: boolean, expected: number) => {
      const c = kafka.consumer({ groupId: unique('r'), readUncommitted, ...CLI_GROUP });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      const values: string[] = [];
      await c.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
      await waitFor(() => values.length >= expected, 10_000, `${expected} from ${topic}`);
      await new Promise((r) => setTimeout(r, 150));
      await c.disconnect();
      return values;
    };
    const all = await readAll('events', true, 200);
    expect(all.map((v) => Number(v.slice(1))).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i),
    );
    expect(await readAll('tx', true, 4)).toEqual(['c1', 'c2', 'open1', 'open2']);
    // The open transaction is still open after the restart, until its timeout aborts it.
    expect(await readAll('tx', false, 2)).toEqual(['c1', 'c2']);
    await waitFor(
      async () => {
        const o = await admin2.fetchTopicOffsets('tx');
        return o[0]!.high === '6';
      },
      10_000,
      'timed-out transaction aborted',
    );

    // The idempotent producer state survived too: writes continue at the right offsets.
    const after = kafka.producer({ idempotent: true });
    await after.connect();
    const r = await after.send({ topic: 'events', messages: [{ partition: 0, value: 'after' }] });
    expect(r[0]!.baseOffset).toBe('100');
    await after.disconnect();
    await admin2.disconnect();
    await kill9(child);
  });
});
