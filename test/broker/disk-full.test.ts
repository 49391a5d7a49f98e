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
import { type CliBroker, kill9, startCliBroker } from './support/cli-broker.ts';
import { FAST_GROUP, unique } from './support/kafka.ts';

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
});
