/**
 * librdkafka interop through kcat: produce (-P, line and file modes, compression, idempotence and
 * transactions), consume to the end (-C -e), consumer groups (-G), and byte-for-byte cross checks with
 * kafkajs in both directions (keys, values, headers, timestamps).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { FAST_GROUP, kafkaClient, unique, waitFor } from './support/kafka.ts';
import { kcat, parseRecords, RECORD_FORMAT } from './support/kcat.ts';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('kcat (librdkafka) interop', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let bootstrap: string;
  let dir: string;

  beforeAll(async () => {
    broker = await startTestBroker();
    kafka = kafkaClient(broker.brokers);
    bootstrap = broker.brokers[0]!;
    dir = mkdtempSync(join(tmpdir(), 'kcat-'));
  });
  afterAll(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function kafkajsRead(
    topic: string,
    expected: number,
    readUncommitted = false,
  ): Promise<KafkaMessage[]> {
    const consumer = kafka.consumer({ groupId: unique('g'), readUncommitted, ...FAST_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const messages: KafkaMessage[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    await waitFor(() => messages.length >= expected, 10_000, `${expected} messages via kafkajs`);
    await consumer.disconnect();
    return messages;
  }

  async function kcatRead(topic: string, extra: string[] = []) {
    const r = await kcat([
      '-b',
      bootstrap,
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-f',
      RECORD_FORMAT,
      ...extra,
    ]);
    expect(r.code, r.stderr).toBe(0);
    return parseRecords(r.stdout);
  }

  it('kcat -P (keys, headers, gzip, idempotent) is read back identically by kcat -C and kafkajs', async () => {
    const topic = unique('kp');
    const lines = 'k1\tv1\n\tempty-key\nkü\tvälue ✓\n';
    const produced = await kcat(
      [
        '-b',
        bootstrap,
        '-P',
        '-t',
        topic,
        '-K',
        '\t',
        '-H',
        'h1=x',
        '-H',
        'h2=ÿ',
        '-z',
        'gzip',
        '-X',
        'enable.idempotence=true',
      ],
      lines,
    );
    expect(produced.code, produced.stderr).toBe(0);
    const file = join(dir, 'binary');
    writeFileSync(file, ALL_BYTES);
    const fromFile = await kcat(['-b', bootstrap, '-P', '-t', topic, file]);
    expect(fromFile.code, fromFile.stderr).toBe(0);

    const viaKcat = await kcatRead(topic);
    expect(viaKcat.map((r) => [r.offset, r.key?.toString() ?? null, r.value?.toString('latin1')])).toEqual([
      [0, 'k1', 'v1'],
      [1, '', 'empty-key'],
      [2, 'kü', Buffer.from('välue ✓').toString('latin1')],
      [3, null, ALL_BYTES.toString('latin1')],
    ]);
    expect(viaKcat[0]!.headers).toBe('h1=x,h2=ÿ');

    const viaKafkajs = await kafkajsRead(topic, 4);
    expect(viaKafkajs).toHaveLength(4);
    viaKafkajs.forEach((m, i) => {
      const k = viaKcat[i]!;
      expect(m.offset).toBe(String(k.offset));
      expect(m.timestamp).toBe(String(k.timestamp));
      expect(m.key === null ? null : Buffer.from(m.key)).toEqual(k.key);
      expect(Buffer.from(m.value!)).toEqual(k.value);
    });
    expect(
      Object.fromEntries(Object.entries(viaKafkajs[0]!.headers!).map(([h, v]) => [h, String(v)])),
    ).toEqual({
      h1: 'x',
      h2: 'ÿ',
    });
  });

  it('kcat -Z writes records whose key and value are both null, as Kafka accepts them', async () => {
    const topic = unique('kn');
    const produced = await kcat(['-b', bootstrap, '-P', '-t', topic, '-K', ':', '-Z'], ':\nk:\n:v\n');
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr).toBe('');
    const records = await kcatRead(topic);
    expect(records.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual([
      [null, null],
      ['k', null],
      [null, 'v'],
    ]);
  });

  it('kafkajs produces; kcat -C -e reads the same bytes, headers and timestamps', async () => {
    const topic = unique('jp');
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: 'key-1', value: ALL_BYTES, headers: { a: '1', ü: 'ß' }, timestamp: '1700000000123' },
        { key: null, value: 'no key', timestamp: '1700000000456' },
        { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: '1700000000789' },
      ],
    });
    await producer.disconnect();
    const records = await kcatRead(topic);
    expect(records).toHaveLength(3);
    expect(records[0]!.key!.toString()).toBe('key-1');
    expect(records[0]!.value).toEqual(ALL_BYTES);
    expect(records[0]!.headers).toBe('a=1,ü=ß');
    expect(records.map((r) => r.timestamp)).toEqual([1700000000123, 1700000000456, 1700000000789]);
    expect(records[1]!.key).toBeNull();
    expect(records[1]!.value!.toString()).toBe('no key');
    expect(records[2]!.key!.length).toBe(0);
    expect(records[2]!.value!.length).toBe(0);
  });

  it('librdkafka compression codecs (snappy, lz4, zstd) and a transactional kcat producer', async () => {
    const topic = unique('kz');
    for (const codec of ['snappy', 'lz4', 'zstd']) {
      const r = await kcat(['-b', bootstrap, '-P', '-t', topic, '-z', codec], `${codec}-1\n${codec}-2\n`);
      expect(r.code, r.stderr).toBe(0);
    }
    const tx = await kcat(
      ['-b', bootstrap, '-P', '-t', topic, '-X', `transactional.id=${unique('ktx')}`],
      'tx-1\ntx-2\n',
    );
    expect(tx.code, tx.stderr).toBe(0);
    expect(tx.stderr).toMatch(/committed/i);
    const records = await kcatRead(topic, ['-X', 'isolation.level=read_committed']);
    expect(records.map((r) => r.value!.toString())).toEqual([
      'snappy-1',
      'snappy-2',
      'lz4-1',
      'lz4-2',
      'zstd-1',
      'zstd-2',
      'tx-1',
      'tx-2',
    ]);
    // kafkajs (read_committed, its default) reads librdkafka's committed transaction; the control record is
    // skipped.
    const txTopic = unique('ktx');
    const tx2 = await kcat(
      ['-b', bootstrap, '-P', '-t', txTopic, '-X', `transactional.id=${unique('ktx')}`],
      't1\nt2\n',
    );
    expect(tx2.code, tx2.stderr).toBe(0);
    const viaKafkajs = await kafkajsRead(txTopic, 2);
    expect(viaKafkajs.map((m) => [m.offset, m.value!.toString()])).toEqual([
      ['0', 't1'],
      ['1', 't2'],
    ]);
  });

  it('takes a zstd batch from kcat, keeps it compressed, and croupier reads it', async () => {
    const topic = unique('kc');
    // librdkafka compresses only what gets smaller: a repetitive value. (librdkafka 2.0 sends gzip, snappy and
    // lz4 uncompressed to a broker whose Produce starts at v3, as Kafka 4.0's does; zstd needs v7 anyway.)
    const file = join(dir, 'repetitive');
    writeFileSync(file, 'croupier '.repeat(1000));
    const r = await kcat(['-b', bootstrap, '-P', '-t', topic, '-p', '0', '-z', 'zstd', file]);
    expect(r.code, r.stderr).toBe(0);
    const [stored] = broker.handle.broker.partition(topic, 0)!.entries;
    expect(stored!.buf!.readInt16BE(21) & 0x07).toBe(4);
    expect(stored!.size).toBeLessThan(1000);
    // croupier's kafkajs client (createKafka registers the codecs) reads it.
    const croupierKafka = createKafka(configSchema.parse({}).kafka, broker.brokers);
    const consumer = croupierKafka.consumer({ groupId: unique('g'), ...FAST_GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await waitFor(() => values.length >= 1, 10_000, 'the zstd record via kafkajs');
    await consumer.disconnect();
    expect(values).toEqual(['croupier '.repeat(1000)]);
  });

  it('refuses a codec left out of compressionCodecs with a clear error, and takes the others', async () => {
    const own = await startTestBroker({ compressionCodecs: ['none', 'gzip'] });
    try {
      const topic = unique('kd');
      const file = join(dir, 'repetitive');
      writeFileSync(file, 'croupier '.repeat(1000));
      const zstd = await kcat(['-b', own.brokers[0]!, '-P', '-t', topic, '-z', 'zstd', file]);
      expect(zstd.stderr).toMatch(/Unsupported compression type/);
      const gzip = await kcat(['-b', own.brokers[0]!, '-P', '-t', topic, '-z', 'gzip', file]);
      expect(gzip.code, gzip.stderr).toBe(0);
      const r = await kcat([
        '-b',
        own.brokers[0]!,
        '-C',
        '-t',
        topic,
        '-o',
        'beginning',
        '-e',
        '-f',
        RECORD_FORMAT,
      ]);
      expect(parseRecords(r.stdout).map((m) => m.value?.length)).toEqual([9000]);
    } finally {
      await own.close();
    }
  });

  it('kcat -G consumes a three-partition topic as a group and commits its offsets', async () => {
    const topic = unique('kg');
    const groupId = unique('kgroup');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `g${i}` })),
    });
    await producer.disconnect();
    const r = await kcat([
      '-b',
      bootstrap,
      '-G',
      groupId,
      '-X',
      'auto.offset.reset=earliest',
      '-X',
      'session.timeout.ms=6000',
      '-e',
      '-f',
      RECORD_FORMAT,
      topic,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const values = parseRecords(r.stdout).map((rec) => rec.value!.toString());
    expect(values.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `g${i}`).sort());
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(offsets[0]!.partitions.map((p) => p.offset).sort()).toEqual(['10', '10', '10']);
    await admin.disconnect();
  });
});
