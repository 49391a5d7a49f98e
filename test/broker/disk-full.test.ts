/**
 * A broker whose disk fills up: the CLI broker runs under a file-size limit (RLIMIT_FSIZE), so a segment write past
 * it is cut short and the next one fails, as on a full disk. What it acknowledged must be what it serves, before and
 * after a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/broker/protocol/api-keys.ts';
import { type CliBroker, kill9, startCliBroker } from './support/cli-broker.ts';
import { FAST_GROUP, unique } from './support/kafka.ts';
import { RawClient } from './support/raw-client.ts';

const TOPIC = 'filling';

function client(broker: CliBroker): Kafka {
  return new Kafka({
    clientId: 'disk-full',
    brokers: [broker.address],
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 50, retries: 1 },
  });
}

async function readAll(kafka: Kafka, expected: number): Promise<string[]> {
  // The CLI broker keeps Kafka's 6 s minimum session timeout.
  const consumer = kafka.consumer({
    groupId: unique('disk-full'),
    ...FAST_GROUP,
    sessionTimeout: 6000,
    rebalanceTimeout: 6000,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const values: string[] = [];
  const errors: string[] = [];
  consumer.on(consumer.events.CRASH, (e) => errors.push(String(e.payload.error)));
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(String(message.value));
    },
  });
  const deadline = Date.now() + 15_000;
  while (values.length < expected && errors.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  // A moment more: anything past what was acknowledged would show.
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  if (errors.length > 0) throw new Error(`the consumer crashed: ${errors[0]}`);
  return values;
}

describe('a broker whose disk is full', () => {
  const dirs: string[] = [];
  const children: CliBroker[] = [];
  afterAll(async () => {
    for (const c of children) await kill9(c);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('acknowledges no batch the disk took only part of, and keeps every acknowledged record across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'broker-full-'));
    dirs.push(dataDir);
    let broker = await startCliBroker(dataDir, { partitions: 1, fileSizeLimitBytes: 48 * 1024 });
    children.push(broker);
    let kafka = client(broker);
    const producer = kafka.producer();
    await producer.connect();
    const acknowledged: string[] = [];
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const value = `${i}:${'x'.repeat(1900 + i)}`;
      try {
        await producer.send({ topic: TOPIC, acks: -1, messages: [{ value }] });
        acknowledged.push(value);
      } catch {
        refused++;
      }
    }
    await producer.disconnect();
    // The limit was reached: some sends were refused, and what came before it was taken.
    expect(refused).toBeGreaterThan(0);
    expect(acknowledged.length).toBeGreaterThan(10);
    expect(await readAll(kafka, acknowledged.length)).toEqual(acknowledged);

    await kill9(broker);
    broker = await startCliBroker(dataDir, { partitions: 1 });
    children.push(broker);
    kafka = client(broker);
    const later = kafka.producer();
    await later.connect();
    await later.send({ topic: TOPIC, acks: -1, messages: [{ value: 'after the restart' }] });
    await later.disconnect();
    expect(await readAll(kafka, acknowledged.length + 1)).toEqual([...acknowledged, 'after the restart']);
  });

  it('keeps every acknowledged group offset, and those committed after space came back, across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'broker-full-'));
    dirs.push(dataDir);
    let broker = await startCliBroker(dataDir, { partitions: 1, fileSizeLimitBytes: 4096 });
    children.push(broker);
    let admin = client(broker).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    let acknowledged = -1;
    let refused = 0;
    for (let offset = 1; offset <= 100 && refused < 3; offset++) {
      if ((await commitOffset(broker, 'filling-group', offset, 'm'.repeat(300))) === 0) acknowledged = offset;
      else refused++;
    }
    expect(refused).toBeGreaterThan(0);
    expect(acknowledged).toBeGreaterThan(3);

    // Space comes back: a later commit follows the last whole line.
    await kill9(broker);
    broker = await startCliBroker(dataDir, { partitions: 1 });
    children.push(broker);
    expect(await commitOffset(broker, 'later-group', 7, '')).toBe(0);
    await kill9(broker);
    broker = await startCliBroker(dataDir, { partitions: 1 });
    children.push(broker);
    admin = client(broker).admin();
    await admin.connect();
    const committedOf = async (groupId: string) => {
      const [topic] = await admin.fetchOffsets({ groupId, topics: [TOPIC] });
      return Number(topic!.partitions[0]!.offset);
    };
    expect(await committedOf('filling-group')).toBe(acknowledged);
    expect(await committedOf('later-group')).toBe(7);
    await admin.disconnect();
  });
});

/**
 * A simple (generation -1) OffsetCommit v2 of `TOPIC:0`; resolves to its error code, or -1 when the broker closed
 * the connection instead of answering.
 */
async function commitOffset(
  broker: CliBroker,
  groupId: string,
  offset: number,
  metadata: string,
): Promise<number> {
  const raw = await RawClient.connect(broker.address);
  try {
    const answer = await raw.request(ApiKey.OffsetCommit, 2, (e) => {
      e.string(groupId).int32(-1).string('').int64(-1).int32(1).string(TOPIC).int32(1).int32(0).int64(offset);
      e.nullableString(metadata);
    });
    answer.int32();
    answer.string();
    answer.int32();
    answer.int32();
    return answer.int16();
  } catch {
    return -1;
  } finally {
    raw.close();
  }
}
