/**
 * Wire-level behaviour with a bare client: ApiVersions, record-batch validation, idempotent sequences,
 * Fetch semantics (ranges, long poll, per-connection ordering), acks=0, control batches and the
 * aborted-transactions list, group error codes, and bad input closing only the offending connection.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressFrameSync } from 'lz4-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVERTISED, ApiKey } from '../../src/broker/protocol/api-keys.ts';
import type { Decoder } from '../../src/broker/protocol/decoder.ts';
import type { Encoder } from '../../src/broker/protocol/encoder.ts';
import { ErrorCode } from '../../src/broker/protocol/error-codes.ts';
import { crc32c } from '../../src/compression/crc32c.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { buildBatch } from './support/batches.ts';
import { unique } from './support/kafka.ts';
import { RawClient } from './support/raw-client.ts';

interface ProduceResult {
  errorCode: number;
  baseOffset: number;
}

function produceBody(
  topic: string,
  partition: number,
  records: Buffer | null,
  acks = -1,
  txnId: string | null = null,
) {
  return (e: Encoder) => {
    e.nullableString(txnId).int16(acks).int32(5000);
    e.int32(1).string(topic).int32(1).int32(partition).nullableBytes(records);
  };
}

function readProduce(d: Decoder, version: number): ProduceResult {
  d.int32(); // topics
  d.string();
  d.int32(); // partitions
  d.int32();
  const errorCode = d.int16();
  const baseOffset = d.int64();
  d.int64();
  if (version >= 5) d.int64();
  return { errorCode, baseOffset };
}

interface FetchPartitionResult {
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  aborted: { producerId: number; firstOffset: number }[] | null;
  records: Buffer;
}

function fetchBody(
  topic: string,
  partition: number,
  offset: number,
  isolation = 0,
  maxWait = 0,
  minBytes = 1,
) {
  return (e: Encoder) => {
    e.int32(-1).int32(maxWait).int32(minBytes).int32(10_000_000).int8(isolation);
    e.int32(1).string(topic).int32(1).int32(partition).int64(offset).int32(1_000_000);
  };
}

function readFetchV4(d: Decoder): FetchPartitionResult {
  d.int32(); // throttle
  d.int32();
  d.string();
  d.int32();
  d.int32();
  const errorCode = d.int16();
  const highWatermark = d.int64();
  const lastStableOffset = d.int64();
  const aborted = d.nullableArray((a) => ({ producerId: a.int64(), firstOffset: a.int64() }));
  const records = d.bytes();
  return { errorCode, highWatermark, lastStableOffset, aborted, records };
}

describe('broker protocol (bare client)', () => {
  let broker: TestBroker;
  let client: RawClient;

  beforeAll(async () => {
    broker = await startTestBroker({ maxFrameBytes: 1024 * 1024, maxMessageBytes: 10_000 });
    client = await RawClient.connect(broker.brokers[0]!);
  });
  afterAll(async () => {
    client?.close();
    await broker?.close();
  });

  it('ApiVersions v0-v3 advertise exactly the table; an unknown version gets UNSUPPORTED_VERSION in v0', async () => {
    const expected = ADVERTISED.map((a) => [a.apiKey, a.minVersion, a.maxVersion]);
    for (const version of [0, 1, 2]) {
      const d = await client.request(ApiKey.ApiVersions, version, () => undefined);
      expect(d.int16()).toBe(0);
      expect(d.array((k) => [k.int16(), k.int16(), k.int16()])).toEqual(expected);
      if (version >= 1) expect(d.int32()).toBe(0);
    }
    const v3 = await client.request(
      ApiKey.ApiVersions,
      3,
      (e) => e.compactString('croupier-test').compactString('1.0').emptyTaggedFields(),
      true,
    );
    expect(v3.int16()).toBe(0);
    expect(
      v3.compactArray((k) => {
        const row = [k.int16(), k.int16(), k.int16()];
        k.taggedFields();
        return row;
      }),
    ).toEqual(expected);
    expect(v3.int32()).toBe(0);
    v3.taggedFields();
    expect(v3.remaining()).toBe(0);

    const v9 = await client.request(ApiKey.ApiVersions, 9, (e) => e.int64(12345));
    expect(v9.int16()).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(v9.array((k) => [k.int16(), k.int16(), k.int16()])).toEqual(expected);
  });

  it('record batches: CRC, magic, batch count, control, size and compression checks', async () => {
    const topic = unique('val');
    const good = buildBatch({ records: [{ value: 'a' }, { value: 'b' }] });
    expect(readProduce(await client.request(ApiKey.Produce, 3, produceBody(topic, 0, good)), 3)).toEqual({
      errorCode: 0,
      baseOffset: 0,
    });
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 1] ^= 0xff;
    const magic1 = Buffer.from(good);
    magic1[16] = 1;
    const control = buildBatch({ records: [{ value: 'x' }], attributes: 0x20 });
    const huge = buildBatch({ records: [{ value: Buffer.alloc(20_000) }] });
    // zstd before Produce v7; records that say snappy but are not; lz4 records that decompress to a bad framing
    // (a byte after the last).
    const zstd = buildBatch({ records: [{ value: 'z' }], attributes: 4 });
    const notSnappy = buildBatch({ records: [{ value: 's' }], attributes: 2 });
    const badLz4 = buildBatch({
      records: [{ value: 'l' }],
      attributes: 3,
      compress: (r) => compressFrameSync(r),
      trailing: Buffer.from([0]),
    });
    const badDelta = Buffer.from(good);
    badDelta.writeInt32BE(5, 23);
    badDelta.writeUInt32BE(crc32c(badDelta, 21, badDelta.length), 17);
    const cases: [Buffer | null, number][] = [
      [corrupt, ErrorCode.CORRUPT_MESSAGE],
      [magic1, ErrorCode.INVALID_RECORD],
      [Buffer.concat([good, good]), ErrorCode.INVALID_RECORD],
      [control, ErrorCode.INVALID_RECORD],
      [huge, ErrorCode.MESSAGE_TOO_LARGE],
      [zstd, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE],
      [notSnappy, ErrorCode.CORRUPT_MESSAGE],
      [badLz4, ErrorCode.INVALID_RECORD],
      [badDelta, ErrorCode.INVALID_RECORD],
      [good.subarray(0, 40), ErrorCode.CORRUPT_MESSAGE],
      [null, ErrorCode.CORRUPT_MESSAGE],
    ];
    for (const [records, code] of cases) {
      const r = readProduce(await client.request(ApiKey.Produce, 3, produceBody(topic, 0, records)), 3);
      expect(r.errorCode).toBe(code);
    }
    // A zstd batch of 200 MiB of zeros (6 KB compressed) is refused at its first record, not at the size limit
    // after decompressing 100 MiB of it.
    const zeros = buildBatch({
      records: [{ value: 'z' }],
      attributes: 4,
      compress: () =>
        readFileSync(join(import.meta.dirname, '..', 'fixtures', 'compression', 'zeros-200mib.zst')),
    });
    const bomb = readProduce(await client.request(ApiKey.Produce, 7, produceBody(topic, 0, zeros)), 7);
    expect(bomb.errorCode).toBe(ErrorCode.INVALID_RECORD);
    const unknownPartition = readProduce(
      await client.request(ApiKey.Produce, 5, produceBody(topic, 7, good)),
      5,
    );
    expect(unknownPartition.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    // Nothing but the good batch was appended.
    const f = readFetchV4(await client.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 0)));
    expect(f.highWatermark).toBe(2);
  });

  it('idempotent producer: duplicates answered with their original offset, gaps and old epochs refused', async () => {
    const topic = unique('idem');
    const batch = (seq: number, epoch = 0, n = 2) =>
      buildBatch({
        records: Array.from({ length: n }, (_, i) => ({ value: `s${seq + i}` })),
        producerId: 4242,
        producerEpoch: epoch,
        baseSequence: seq,
      });
    const send = async (b: Buffer) =>
      readProduce(await client.request(ApiKey.Produce, 7, produceBody(topic, 0, b)), 7);
    expect(await send(batch(0))).toEqual({ errorCode: 0, baseOffset: 0 });
    expect(await send(batch(2))).toEqual({ errorCode: 0, baseOffset: 2 });
    expect(await send(batch(0))).toEqual({ errorCode: 0, baseOffset: 0 }); // duplicate
    expect(await send(batch(2))).toEqual({ errorCode: 0, baseOffset: 2 }); // duplicate
    expect((await send(batch(7))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect((await send(batch(5, 1))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER); // new epoch starts at 0
    expect(await send(batch(0, 1))).toEqual({ errorCode: 0, baseOffset: 4 });
    expect((await send(batch(4, 0))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const f = readFetchV4(await client.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 0)));
    expect(f.highWatermark).toBe(6);
  });

  it('Fetch: offset range errors, whole batches, long poll, and a waiting Fetch blocks only its connection', async () => {
    const topic = unique('fetch');
    for (let i = 0; i < 3; i++) {
      await client.request(
        ApiKey.Produce,
        3,
        produceBody(topic, 0, buildBatch({ records: [{ value: `m${i}` }] })),
      );
    }
    const above = readFetchV4(await client.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 4)));
    expect(above.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    const mid = readFetchV4(await client.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 1)));
    expect(mid.errorCode).toBe(0);
    expect(mid.records.length).toBeGreaterThan(61 * 2);
    expect(mid.records.readInt32BE(4)).toBe(1); // first batch's base offset (low word)
    const unknown = readFetchV4(await client.request(ApiKey.Fetch, 4, fetchBody(unique('none'), 0, 0)));
    expect(unknown.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    // Long poll on a second connection at the high watermark; this connection keeps working meanwhile.
    const waiter = await RawClient.connect(broker.brokers[0]!);
    const started = Date.now();
    const polled = waiter.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 3, 0, 5000));
    const meta = await client.request(ApiKey.Metadata, 1, (e) => e.int32(1).string(topic));
    expect(meta.remaining()).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    await client.request(
      ApiKey.Produce,
      3,
      produceBody(topic, 0, buildBatch({ records: [{ value: 'late' }] })),
    );
    const woke = readFetchV4(await polled);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(woke.records.length).toBeGreaterThan(61);
    // An empty long poll waits max_wait_ms, then answers empty.
    const t0 = Date.now();
    const empty = readFetchV4(await waiter.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 4, 0, 300)));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(empty.records.length).toBe(0);
    waiter.close();
  });

  it('acks=0 gets no response; responses keep request order', async () => {
    const topic = unique('acks0');
    const c = await RawClient.connect(broker.brokers[0]!);
    const first = c.send(
      ApiKey.Produce,
      3,
      produceBody(topic, 0, buildBatch({ records: [{ value: 'x' }] }), 0),
    );
    const ids = [
      c.send(ApiKey.Metadata, 0, (e) => e.int32(0)),
      c.send(ApiKey.ApiVersions, 0, () => undefined),
      c.send(ApiKey.Fetch, 4, fetchBody(topic, 0, 0)),
    ];
    const done = await c.request(ApiKey.ListGroups, 0, () => undefined);
    expect(done.int16()).toBe(0);
    expect(c.arrivals).not.toContain(first);
    expect(c.arrivals).toEqual([...ids, ids[2]! + 1]);
    c.close();
  });

  it('transactions on the wire: control batches byte-exact, LSO, and the sorted aborted-transactions list', async () => {
    const topic = unique('ctl');
    const txnId = unique('tx');
    const init = await client.request(ApiKey.InitProducerId, 1, (e) => e.nullableString(txnId).int32(60_000));
    init.int32();
    expect(init.int16()).toBe(0);
    const pid = init.int64();
    const epoch = init.int16();
    const addPartitions = async () => {
      const d = await client.request(ApiKey.AddPartitionsToTxn, 1, (e) =>
        e.string(txnId).int64(pid).int16(epoch).int32(1).string(topic).int32(1).int32(0),
      );
      d.int32();
      return d.array((t) => [t.string(), t.array((p) => [p.int32(), p.int16()])]);
    };
    const endTxn = async (commit: boolean) => {
      const d = await client.request(ApiKey.EndTxn, 1, (e) =>
        e.string(txnId).int64(pid).int16(epoch).bool(commit),
      );
      d.int32();
      return d.int16();
    };
    // Not added yet: a transactional batch is refused.
    let seq = 0;
    const txBatch = (value: string) =>
      buildBatch({
        records: [{ value }],
        producerId: pid,
        producerEpoch: epoch,
        baseSequence: seq++,
        attributes: 0x10,
      });
    await client.request(
      ApiKey.Produce,
      3,
      produceBody(topic, 0, buildBatch({ records: [{ value: 'plain' }] })),
    );
    const refused = readProduce(
      await client.request(ApiKey.Produce, 3, produceBody(topic, 0, txBatch('early'), -1, txnId)),
      3,
    );
    expect(refused.errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    seq = 0;

    expect(await addPartitions()).toEqual([[topic, [[0, 0]]]]);
    const a1 = readProduce(
      await client.request(ApiKey.Produce, 3, produceBody(topic, 0, txBatch('a1'), -1, txnId)),
      3,
    );
    expect(a1).toEqual({ errorCode: 0, baseOffset: 1 });
    const open = readFetchV4(await client.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 0, 1)));
    expect([open.highWatermark, open.lastStableOffset]).toEqual([2, 1]);
    expect(await endTxn(false)).toBe(0); // abort: marker at offset 2
    expect(await endTxn(false)).toBe(0); // retried EndTxn is fine
    expect(await endTxn(true)).toBe(ErrorCode.INVALID_TXN_STATE);

    await addPartitions();
    await client.request(ApiKey.Produce, 3, produceBody(topic, 0, txBatch('a2'), -1, txnId)); // offset 3
    expect(await endTxn(false)).toBe(0); // marker at 4
    await addPartitions();
    await client.request(ApiKey.Produce, 3, produceBody(topic, 0, txBatch('c1'), -1, txnId)); // offset 5
    expect(await endTxn(true)).toBe(0); // marker at 6

    const committed = readFetchV4(await client.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 0, 1)));
    expect([committed.highWatermark, committed.lastStableOffset]).toEqual([7, 7]);
    expect(committed.aborted).toEqual([
      { producerId: pid, firstOffset: 1 },
      { producerId: pid, firstOffset: 3 },
    ]);
    const uncommitted = readFetchV4(await client.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 0, 0)));
    expect(uncommitted.aborted).toBeNull();
    const fromFive = readFetchV4(await client.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 5, 1)));
    expect(fromFive.aborted).toEqual([]);

    // The last batch is the commit marker, byte for byte as Kafka writes it.
    const batches: Buffer[] = [];
    for (let at = 0; at < committed.records.length; ) {
      const size = committed.records.readInt32BE(at + 8) + 12;
      batches.push(committed.records.subarray(at, at + size));
      at += size;
    }
    const marker = batches[batches.length - 1]!;
    expect(marker.length).toBe(78);
    expect(marker.readInt32BE(4)).toBe(6); // base offset
    expect(marker.readInt8(16)).toBe(2); // magic
    expect(marker.readInt16BE(21)).toBe(0x30); // transactional | control
    expect(marker.readInt32BE(23)).toBe(0); // last offset delta
    expect(marker.readInt16BE(51)).toBe(epoch);
    expect(marker.readInt32BE(53)).toBe(-1); // base sequence
    expect(marker.readInt32BE(57)).toBe(1); // one record
    expect(marker.subarray(61).toString('hex')).toBe('2000000008000000010c00000000000000');
    expect(marker.readUInt32BE(17)).toBe(crc32c(marker, 21, marker.length));
    const abortMarker = batches.find((b) => b.readInt32BE(4) === 2)!;
    expect(abortMarker.subarray(61).toString('hex')).toBe('2000000008000000000c00000000000000');
  });

  it('group errors: unknown member, illegal generation, rebalance in progress; DescribeGroups states', async () => {
    const groupId = unique('grp');
    const join = async (memberId: string) => {
      const d = await client.request(ApiKey.JoinGroup, 1, (e) => {
        e.string(groupId).int32(10_000).int32(10_000).string(memberId).string('consumer');
        e.int32(1)
          .string('range')
          .bytes(Buffer.from([0, 1]));
      });
      return {
        error: d.int16(),
        generation: d.int32(),
        protocol: d.string(),
        leader: d.string(),
        member: d.string(),
      };
    };
    const heartbeat = async (generation: number, memberId: string) => {
      const d = await client.request(ApiKey.Heartbeat, 0, (e) =>
        e.string(groupId).int32(generation).string(memberId),
      );
      return d.int16();
    };
    const describeState = async () => {
      const d = await client.request(ApiKey.DescribeGroups, 0, (e) => e.int32(1).string(groupId));
      d.int32();
      d.int16();
      d.string();
      return d.string();
    };
    expect(await describeState()).toBe('Dead');
    expect((await join('nobody')).error).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const first = await join('');
    expect(first).toMatchObject({ error: 0, generation: 1, protocol: 'range' });
    expect(first.leader).toBe(first.member);
    expect(await describeState()).toBe('CompletingRebalance');
    const sync = await client.request(ApiKey.SyncGroup, 0, (e) => {
      e.string(groupId)
        .int32(1)
        .string(first.member)
        .int32(1)
        .string(first.member)
        .bytes(Buffer.from('plan'));
    });
    expect(sync.int16()).toBe(0);
    expect(sync.bytes().toString()).toBe('plan');
    expect(await describeState()).toBe('Stable');
    expect(await heartbeat(1, first.member)).toBe(0);
    expect(await heartbeat(7, first.member)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(await heartbeat(1, 'stranger')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

    // A second member joins on another connection (its JoinGroup waits in the barrier).
    const other = await RawClient.connect(broker.brokers[0]!);
    const secondJoin = other.request(ApiKey.JoinGroup, 1, (e) => {
      e.string(groupId).int32(10_000).int32(10_000).string('').string('consumer');
      e.int32(1)
        .string('range')
        .bytes(Buffer.from([0, 2]));
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(await describeState()).toBe('PreparingRebalance');
    expect(await heartbeat(1, first.member)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const commit = await client.request(ApiKey.OffsetCommit, 2, (e) => {
      e.string(groupId).int32(1).string(first.member).int64(-1).int32(0);
    });
    expect(commit.int32()).toBe(0);
    const rejoin = await join(first.member);
    expect(rejoin).toMatchObject({ error: 0, generation: 2 });
    const d = await secondJoin;
    expect(d.int16()).toBe(0);
    expect(d.int32()).toBe(2);
    expect(await describeState()).toBe('CompletingRebalance');
    // LeaveGroup by both empties the group.
    const leave = async (c: RawClient, member: string) =>
      (await c.request(ApiKey.LeaveGroup, 1, (e) => e.string(groupId).string(member))).int32();
    await leave(client, first.member);
    expect(await describeState()).toBe('PreparingRebalance');
    other.close();
  });

  it('bad input closes only the offending connection: unknown API, unsupported version, oversize, garbage', async () => {
    const attempts: ((c: RawClient) => void)[] = [
      (c) => c.send(99, 0, () => undefined),
      (c) => c.send(ApiKey.Produce, 8, () => undefined),
      (c) => c.send(ApiKey.Fetch, 3, () => undefined),
      (c) => c.writeRaw(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3])),
      (c) => c.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xfe])),
      (c) => c.send(ApiKey.Metadata, 1, (e) => e.int32(1000)), // array longer than the frame
      (c) => c.writeRaw(Buffer.from([0, 0, 0, 3, 0, 3, 0])), // truncated header
    ];
    for (const attempt of attempts) {
      const c = await RawClient.connect(broker.brokers[0]!);
      attempt(c);
      await c.closed;
      expect(c.isClosed).toBe(true);
    }
    const d = await client.request(ApiKey.ApiVersions, 0, () => undefined);
    expect(d.int16()).toBe(0);
  });
});
