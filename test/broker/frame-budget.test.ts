/**
 * Large request frames are copied as their bytes arrive and held until the broker takes them: connections that
 * each send most of a large frame (and never finish it) must not hold memory without bound. Past the broker's
 * frame budget the connection holding the most is closed, and other clients go on producing and consuming.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameBudget, type FrameHolder } from '../../src/broker/network/frame-budget.ts';
import { ApiKey } from '../../src/broker/protocol/api-keys.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { buildBatch } from './support/batches.ts';
import { kafkaClient, unique, waitFor } from './support/kafka.ts';
import { RawClient } from './support/raw-client.ts';

const MiB = 1024 * 1024;

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker({ maxFrameBytes: MiB, maxBufferedFrameBytes: 4 * MiB });
});
afterAll(async () => {
  await broker?.close();
});

/** A connection that announces a frame of `size` bytes and sends `send` of them; resolves when it has sent them. */
function partialFrame(
  size: number,
  send: number,
): { socket: Socket; closed: Promise<void>; sent: Promise<void> } {
  const socket = connect(Number(broker.brokers[0]!.split(':')[1]), '127.0.0.1');
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const sent = new Promise<void>((resolve) => {
    socket.once('connect', () => {
      const header = Buffer.alloc(4);
      header.writeInt32BE(size);
      socket.write(Buffer.concat([header, Buffer.alloc(send, 1)]), () => resolve());
    });
    socket.once('close', () => resolve());
  });
  return { socket, closed, sent };
}

describe('the broker frame budget', () => {
  it('closes the connections holding the most once unfinished frames pass the budget, and keeps serving', async () => {
    const attackers = Array.from({ length: 10 }, () => partialFrame(MiB, 900 * 1024));
    let closedCount = 0;
    for (const a of attackers) void a.closed.then(() => closedCount++);
    await Promise.all(attackers.map((a) => a.sent));
    // 10 × 900 KiB held would be 8.8 MiB against a budget of 4 MiB: at least 6 of them are closed.
    await waitFor(() => closedCount >= 6, 30_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(closedCount).toBeLessThan(10);

    const kafka = kafkaClient(broker.brokers);
    const topic = unique('budget');
    const producer = kafka.producer();
    await producer.connect();
    // A request under maxFrameBytes that spans socket chunks: it is budgeted too, and goes through.
    await producer.send({ topic, messages: [{ value: Buffer.alloc(600 * 1024, 2) }] });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets.map((o) => o.high)).toEqual(['1']);
    for (const a of attackers) a.socket.destroy();
  }, 60_000);
});

describe('the batches the log keeps', () => {
  it('own their memory: a small batch copied out of a socket chunk does not pin a shared pool slab', async () => {
    const topic = unique('small');
    const kafka = kafkaClient(broker.brokers);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    // 20 produce requests in one write: each batch is a view of a chunk holding all of them, and is copied.
    const raw = await RawClient.connect(broker.brokers[0]!);
    const frames = Array.from({ length: 20 }, (_, i) =>
      raw.frame(
        ApiKey.Produce,
        3,
        (e) => {
          e.nullableString(null).int16(1).int32(10_000);
          e.int32(1)
            .string(topic)
            .int32(1)
            .int32(0)
            .nullableBytes(buildBatch({ records: [{ value: `v${i}` }] }));
        },
        i + 1,
      ),
    );
    raw.writeRaw(Buffer.concat(frames));
    const partition = () => broker.handle.broker.partition(topic, 0);
    await waitFor(() => (partition()?.entries.length ?? 0) === 20, 10_000, '20 batches');
    raw.close();
    // Buffer.from put each copy in Node's 8 KB pool, which then stayed in memory as long as the batch did.
    for (const e of partition()!.entries)
      expect(e.buf!.buffer.byteLength).toBeLessThanOrEqual(2 * e.buf!.length);
  });
});

describe('FrameBudget', () => {
  it('evicts the largest holders until what is held is within the limit, and forgets what is released', () => {
    const evicted: string[] = [];
    const budget = new FrameBudget(100);
    const holder = (name: string): FrameHolder => ({ evict: () => evicted.push(name) });
    const [a, b, c] = [holder('a'), holder('b'), holder('c')];
    budget.add(a, 40);
    budget.add(b, 50);
    budget.release(a, 30);
    budget.add(c, 30);
    expect([budget.held, evicted]).toEqual([90, []]);
    budget.add(a, 30);
    // 120 held: b (50) is the largest and goes; 70 remain.
    expect([budget.held, evicted]).toEqual([70, ['b']]);
    budget.releaseAll(c);
    budget.releaseAll(c);
    expect(budget.held).toBe(40);
  });
});
