/**
 * Fuzz: 100,000 random and mutated request frames (seeded), fed in process through the broker's real
 * connection code (one connection object per frame or small burst, over an in-memory socket), then a few
 * hundred over real TCP sockets. Afterwards: no handler failed, records produced before the fuzz are all
 * there unchanged, and kafkajs can still produce and consume.
 */
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/broker/network/connection.ts';
import { FrameBudget } from '../../src/broker/network/frame-budget.ts';
import { Encoder } from '../../src/broker/protocol/encoder.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { buildBatch } from './support/batches.ts';
import { FAST_GROUP, kafkaClient, waitFor } from './support/kafka.ts';
import { RawClient } from './support/raw-client.ts';

const FRAMES = 100_000;
const FIXTURES = fileURLToPath(new URL('../fixtures/broker/', import.meta.url));

/** sfc32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed;
  let b = seed ^ 0x9e3779b9;
  let c = seed ^ 0x85ebca6b;
  let d = 1;
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** An in-memory stand-in for net.Socket with what Connection uses. */
class MemorySocket extends EventEmitter {
  remoteAddress = '127.0.0.1';
  remotePort = 1;
  writableLength = 0;
  destroyed = false;
  written = 0;
  private paused = false;
  setNoDelay(): this {
    return this;
  }
  write(chunk: Buffer): boolean {
    this.written += chunk.length;
    return true;
  }
  cork(): void {}
  uncork(): void {}
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  isPaused(): boolean {
    return this.paused;
  }
  end(): this {
    return this.destroy();
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }
}

function frame(apiKey: number, version: number, body: Buffer, correlationId: number): Buffer {
  const e = new Encoder();
  e.int32(0).int16(apiKey).int16(version).int32(correlationId).nullableString('fuzz');
  if (apiKey === 18 && version >= 3) e.emptyTaggedFields();
  e.raw(body);
  const b = e.toBuffer();
  b.writeInt32BE(b.length - 4, 0);
  return Buffer.from(b);
}

describe('fuzz', () => {
  let broker: TestBroker;
  let errors: string[];
  const keep: string[] = [];

  beforeAll(async () => {
    errors = [];
    const stream = {
      write(line: string) {
        const entry = JSON.parse(line) as {
          level: number;
          msg: string;
          err?: { message?: string; stack?: string };
        };
        if (entry.level >= 50) errors.push(`${entry.msg}: ${entry.err?.stack ?? ''}`);
      },
    };
    broker = await startTestBroker({ logger: pino({ level: 'error' }, stream) });
  });
  afterAll(async () => {
    await broker?.close();
  });

  it(`survives ${FRAMES} random and mutated frames; produce/consume still work and nothing is lost`, async () => {
    const kafka = kafkaClient(broker.brokers);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'fuzz-keep', numPartitions: 3 }] });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < 10; i++) {
      const messages = Array.from({ length: 30 }, (_, j) => ({
        key: `k${i * 30 + j}`,
        value: `keep-${i * 30 + j}`,
      }));
      keep.push(...messages.map((m) => m.value));
      await producer.send({ topic: 'fuzz-keep', messages });
    }
    const before = await admin.fetchTopicOffsets('fuzz-keep');

    // Corpus: every golden request (all APIs and versions) plus produce requests with real batches.
    const corpus: Buffer[] = [];
    for (const f of readdirSync(FIXTURES).filter((n) => /^api\d+-v\d+\.json$/.test(n))) {
      const fx = JSON.parse(readFileSync(join(FIXTURES, f), 'utf8'));
      corpus.push(frame(fx.apiKey, fx.version, Buffer.from(fx.request.hex, 'hex'), 1));
    }
    const batch = buildBatch({ records: [{ key: 'a', value: 'b', headers: [['h', 'v']] }, { value: 'c' }] });
    for (const v of [3, 5, 7]) {
      const body = new Encoder();
      body
        .nullableString(null)
        .int16(-1)
        .int32(1000)
        .int32(1)
        .string('orders')
        .int32(1)
        .int32(0)
        .bytes(batch);
      corpus.push(frame(0, v, body.toBuffer(), 2));
    }

    const random = rng(0xc0ffee);
    const int = (n: number) => Math.floor(random() * n);
    const extremes = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe];
    const mutate = (input: Buffer): Buffer => {
      let b = Buffer.from(input);
      const n = 1 + int(4);
      for (let i = 0; i < n; i++) {
        const at = 4 + int(Math.max(1, b.length - 4));
        switch (int(7)) {
          case 0:
            if (at < b.length) b[at]! ^= 1 << int(8);
            break;
          case 1:
            if (at < b.length) b[at] = int(256);
            break;
          case 2:
            if (at < b.length) b[at] = extremes[int(extremes.length)]!;
            break;
          case 3:
            b = b.subarray(0, Math.max(4, at));
            break;
          case 4: {
            const extra = Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256)));
            b = Buffer.concat([b.subarray(0, at), extra, b.subarray(at)]);
            break;
          }
          case 5:
            for (let k = 0; k < 4 && at + k < b.length; k++) b[at + k] = int(2) ? 0xff : 0x7f;
            break;
          default:
            if (at + 2 <= b.length) b.writeInt16BE(int(2) ? -1 : int(65536) - 32768, at);
        }
      }
      if (random() < 0.9) b.writeInt32BE(b.length - 4, 0); // mostly a consistent size prefix
      return b;
    };
    const randomFrame = (): Buffer => {
      const len = int(64);
      const b = Buffer.from(Array.from({ length: 4 + len }, () => int(256)));
      if (random() < 0.8) b.writeInt32BE(len, 0);
      if (random() < 0.5 && len >= 4) b.writeInt16BE(int(30), 4); // a plausible API key
      return b;
    };

    const options = {
      maxFrameBytes: 1024 * 1024,
      maxPendingWriteBytes: 64 * 1024 * 1024,
      frameBudget: new FrameBudget(64 * 1024 * 1024),
    };
    const logger = pino({ level: 'error' }, { write: (line: string) => errors.push(line) });
    const started = Date.now();
    let closedByBroker = 0;
    for (let i = 0; i < FRAMES; ) {
      const socket = new MemorySocket();
      new Connection(socket as unknown as Socket, broker.handle.broker, logger, options);
      // Usually one frame, sometimes a burst of several in one chunk (framing across requests).
      const burst = random() < 0.1 ? 2 + int(6) : 1;
      const frames: Buffer[] = [];
      for (let k = 0; k < burst && i < FRAMES; k++, i++) {
        frames.push(random() < 0.3 ? randomFrame() : mutate(corpus[int(corpus.length)]!));
      }
      const data = Buffer.concat(frames);
      // Occasionally split the bytes at a random point, as TCP may.
      if (random() < 0.2 && data.length > 1) {
        const cut = 1 + int(data.length - 1);
        socket.emit('data', data.subarray(0, cut));
        socket.emit('data', data.subarray(cut));
      } else {
        socket.emit('data', data);
      }
      if (socket.destroyed) closedByBroker++;
      socket.destroy();
      if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    const inProcessMs = Date.now() - started;
    expect(closedByBroker).toBeGreaterThan(FRAMES / 10);

    // A few hundred over real sockets, while one good connection keeps working.
    const good = await RawClient.connect(broker.brokers[0]!);
    for (let i = 0; i < 300; i++) {
      const c = await RawClient.connect(broker.brokers[0]!);
      c.writeRaw(random() < 0.5 ? randomFrame() : mutate(corpus[int(corpus.length)]!));
      if (i % 50 === 0) expect((await good.request(18, 0, () => undefined)).int16()).toBe(0);
      c.close();
    }
    good.close();

    expect(errors).toEqual([]);
    expect(inProcessMs).toBeLessThan(60_000);

    // Nothing lost: the same offsets and the same records.
    expect(await admin.fetchTopicOffsets('fuzz-keep')).toEqual(before);
    const consumer = kafka.consumer({ groupId: 'fuzz-check', ...FAST_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic: 'fuzz-keep', fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor(() => seen.length >= 300, 15_000, 'kept records');
    await producer.send({ topic: 'fuzz-keep', messages: [{ value: 'after-fuzz' }] });
    await waitFor(() => seen.includes('after-fuzz'), 10_000, 'record produced after the fuzz');
    await consumer.disconnect();
    expect(seen.filter((v) => v !== 'after-fuzz').sort()).toEqual([...keep].sort());
    await producer.disconnect();
    await admin.disconnect();
  });
});
