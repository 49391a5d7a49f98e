import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TopicTable } from '../../src/archive/format/columns.ts';
import { createDuckDbParquetBuilder } from '../../src/archive/format/duckdb-parquet-builder.ts';
import type { FileBuilder } from '../../src/archive/format/file-builder.ts';
import { createDirectParquetBuilder } from '../../src/archive/format/parquet/direct-parquet-builder.ts';
import { LeafColumn, rleLevels } from '../../src/archive/format/parquet/leaf-column.ts';
import { compressPage } from '../../src/archive/format/parquet/parquet-file.ts';
import { FrameCursor, packMessages, packRecords } from '../../src/archive/format/parquet/record-frames.ts';
import { startParquetBuilderThread } from '../../src/archive/format/parquet/threaded-parquet-builder.ts';
import type { ArchiveRecord, DecodedValue } from '../../src/archive/format/rows.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { loadSchemas, type SchemaName } from '../../streams/schemas/index.ts';
import { SAMPLE_EVENTS } from '../support/sample-events.ts';
import { topicTables, useDuckDb } from './support/format-fixture.ts';

const schemas = loadSchemas();
const tables = topicTables();
const T0 = Date.parse('2026-03-01T10:15:00Z');
const meta = (records: number) => ({
  topic: 't',
  partition: 2,
  startOffset: 0,
  endOffset: records - 1,
  records,
  writerSchemas: { '7': '{}' },
});

/** A record both ways: decoded fields (for the DuckDB builder) and Avro body (for the direct one). */
function pair(
  offset: number,
  name: SchemaName,
  value: unknown,
): { fields: ArchiveRecord; avro: ArchiveRecord } {
  const type = schemas[name];
  const body = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), type.toBuffer(value)]);
  const base = { offset, timestamp: T0 + offset * 1000, key: Buffer.from(`k${offset}`), value: body };
  const recordType = type.name!;
  return {
    fields: {
      ...base,
      decoded: { kind: 'value', recordType, schemaId: 7, fields: type.fromBuffer(body.subarray(5)) },
    },
    avro: { ...base, decoded: { kind: 'avro', recordType, schemaId: 7, body, start: 5 } },
  };
}

const duck = useDuckDb('direct-parquet-');
const dir = duck.dir;
const duckdb = duck.instance;
const query = (sql: string) => duck.query(sql, 'json');

let files = 0;
async function write(builder: FileBuilder, records: ArchiveRecord[]): Promise<string> {
  const out = path.join(dir(), `${++files}.parquet`);
  builder.append(2, records.slice(0, 2));
  builder.append(2, records.slice(2));
  await builder.finish(meta(records.length), out);
  return out;
}

/** Writes the records with both builders and expects DuckDB to read the same table from both files. */
async function expectSameAsDuckDb(
  table: TopicTable,
  records: { fields: ArchiveRecord; avro: ArchiveRecord }[],
) {
  const viaDuckDb = await write(
    createDuckDbParquetBuilder({
      duckdb: duckdb(),
      table,
      compression: 'zstd',
      stagingPath: path.join(dir(), `${files}.ndjson`),
    }),
    records.map((r) => r.fields),
  );
  const describe = (f: string) => query(`DESCRIBE SELECT * FROM '${f}'`);
  const rows = (f: string) => query(`SELECT * FROM '${f}' ORDER BY _offset`);
  const expected = await rows(viaDuckDb);
  let direct = '';
  for (const compression of ['snappy', 'gzip'] as const) {
    direct = await write(
      createDirectParquetBuilder({ table, compression }),
      records.map((r) => r.avro),
    );
    expect(await describe(direct)).toEqual(await describe(viaDuckDb));
    expect(await rows(direct)).toEqual(expected);
  }
  const got = await rows(direct);
  expect(got).toHaveLength(records.length);
  return direct;
}

describe('Parquet written directly from Avro bodies', () => {
  it('reads back exactly as the DuckDB-staged file: the four clickstream record types, nulls and structs', async () => {
    const imp = SAMPLE_EVENTS.Impression;
    const file = await expectSameAsDuckDb(tables.clickstream, [
      pair(0, 'Impression', imp),
      pair(1, 'Click', SAMPLE_EVENTS.Click),
      pair(2, 'Conversion', SAMPLE_EVENTS.Conversion),
      pair(3, 'Watch', SAMPLE_EVENTS.Watch),
      pair(4, 'Impression', { ...imp, score: null, context: null, experiment: null, shadowSlot: null }),
      pair(5, 'Impression', { ...imp, userId: 'ü-ß-😀', slot: -2_147_483_648, propensity: 1 }),
      pair(6, 'Watch', { ...SAMPLE_EVENTS.Watch, watchTimeMs: 2 ** 52 + 3, timestamp: -5 }),
    ]);
    const kv = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file}')`);
    expect(Object.fromEntries(kv.map((r) => [r.k, r.v]))).toMatchObject({
      'croupier.partition': '2',
      'croupier.endOffset': '6',
      'croupier.schemaIds': '7',
    });
  });

  it('keeps the items of a carousel as a list of structs, each with its list of features', async () => {
    const carousel = SAMPLE_EVENTS.Carousel;
    const [first, second] = carousel.items;
    await expectSameAsDuckDb(tables.clickstream, [
      pair(0, 'Carousel', carousel),
      pair(1, 'Click', SAMPLE_EVENTS.Click),
      pair(2, 'Carousel', { ...carousel, items: [] }),
      pair(3, 'Carousel', {
        ...carousel,
        items: [{ ...first, features: [] }, second, { ...first, slot: 2 }],
      }),
      pair(4, 'Carousel', { ...carousel, items: [second], context: null, featureSpecHash: null }),
    ]);
  });

  it('keeps lists (empty, one, many), nested structs and timestamps of CDC rows', async () => {
    const item = SAMPLE_EVENTS.ItemChange;
    await expectSameAsDuckDb(tables.items, [
      pair(0, 'ItemChange', item),
      pair(1, 'ItemChange', { ...item, after: { ...item.after!, tags: [] } }),
      pair(2, 'ItemChange', {
        ...item,
        before: item.after,
        after: { ...item.after!, tags: ['a', 'b', 'c'] },
      }),
      pair(3, 'ItemChange', { ...item, after: null, op: 'd' }),
    ]);
    await expectSameAsDuckDb(tables.users, [pair(0, 'UserChange', SAMPLE_EVENTS.UserChange)]);
  });

  it('keeps the bytes of dead letters', async () => {
    await expectSameAsDuckDb(tables.deadLetters, [
      pair(0, 'DeadLetter', SAMPLE_EVENTS.DeadLetter),
      pair(1, 'DeadLetter', { ...SAMPLE_EVENTS.DeadLetter, key: null, value: Buffer.alloc(0) }),
    ]);
  });

  it('keeps a bad body, a tombstone and an undecodable record as rows with their bytes and why, and the rows around them whole', async () => {
    const good = pair(0, 'Click', SAMPLE_EVENTS.Click).avro;
    const body = (good.decoded as { body: Buffer }).body;
    const withBody = (offset: number, b: Buffer): ArchiveRecord => ({
      ...good,
      offset,
      value: b,
      decoded: { kind: 'avro', recordType: 'croupier.events.Click', schemaId: 7, body: b, start: 5 },
    });
    const records: ArchiveRecord[] = [
      good,
      withBody(1, body.subarray(0, body.length - 4)), // truncated
      withBody(2, Buffer.concat([body, Buffer.from([1, 2])])), // trailing bytes
      { ...good, offset: 3, value: null, decoded: { kind: 'tombstone' } },
      { ...good, offset: 4, value: Buffer.from([9]), decoded: { kind: 'undecodable', error: 'bad magic' } },
      { ...good, offset: 5 },
    ];
    const file = await write(
      createDirectParquetBuilder({ table: tables.clickstream, compression: 'uncompressed' }),
      records,
    );
    const rows = await query(
      `SELECT _offset::INTEGER AS o, _schema, itemId, slot, hex(_raw) AS raw, _error FROM '${file}' ORDER BY _offset`,
    );
    expect(rows.map((r) => [r.o, r._schema, r.itemId, r.slot])).toEqual([
      [0, 'croupier.events.Click', 'i-7', 3],
      [1, null, null, null],
      [2, null, null, null],
      [3, null, null, null],
      [4, null, null, null],
      [5, 'croupier.events.Click', 'i-7', 3],
    ]);
    expect(String(rows[1]._error)).toMatch(/CROUPIER_ERR_SERDE_DECODE.*runs past|truncated/);
    expect(String(rows[2]._error)).toMatch(/2 bytes trail/);
    expect(rows[2].raw).toBe(
      Buffer.concat([body, Buffer.from([1, 2])])
        .toString('hex')
        .toUpperCase(),
    );
    expect(rows[3]).toMatchObject({ raw: null, _error: null });
    expect(rows[4]).toMatchObject({ raw: '09', _error: 'bad magic' });
  });

  it('writes invalid UTF-8 in a string as replacement characters, so the column stays readable', async () => {
    const click = pair(0, 'Click', { ...SAMPLE_EVENTS.Click, itemId: 'ab' }).avro;
    const body = Buffer.from((click.decoded as { body: Buffer }).body);
    const at = body.indexOf(Buffer.from('ab'));
    body[at] = 0xff;
    const file = await write(createDirectParquetBuilder({ table: tables.clickstream, compression: 'gzip' }), [
      { ...click, decoded: { ...(click.decoded as { kind: 'avro' }), body } as ArchiveRecord['decoded'] },
    ]);
    const [row] = await query(`SELECT itemId FROM '${file}'`);
    expect(row.itemId).toBe('\ufffdb');
  });

  it('encodes levels as RLE runs', () => {
    expect([...rleLevels(Uint8Array.from([1, 1, 1, 0, 2]), 5, 2)]).toEqual([6, 1, 2, 0, 2, 2]);
    const long = new Uint8Array(200).fill(1);
    expect([...rleLevels(long, 200, 1)]).toEqual([0x90, 0x03, 1]);
  });
});

describe('Parquet built on the builder thread', () => {
  const mixed = (): ArchiveRecord[] => {
    const good = pair(0, 'Impression', SAMPLE_EVENTS.Impression).avro;
    const click = pair(1, 'Click', SAMPLE_EVENTS.Click).avro;
    const body = (click.decoded as { body: Buffer }).body;
    // A body that is not the value (as after schema resolution): it must cross on its own.
    const resolved = Buffer.from(body.subarray(5));
    return [
      good,
      {
        ...click,
        decoded: {
          ...(click.decoded as { kind: 'avro' }),
          body: resolved,
          start: 0,
        } as ArchiveRecord['decoded'],
      },
      { ...good, offset: 2, key: null, value: null, decoded: { kind: 'tombstone' } },
      {
        ...good,
        offset: 3,
        value: Buffer.from([9]),
        decoded: { kind: 'undecodable', error: 'bad magic: ü' },
      },
      { ...pair(4, 'Watch', SAMPLE_EVENTS.Watch).avro, timestamp: 2 ** 41 + 0.5 },
    ];
  };

  it('packs records into one buffer and unpacks them equal', () => {
    const records = mixed();
    const types = tables.clickstream.recordTypes;
    expect(unpackRecords(packRecords(records, types), types)).toEqual(records);
    expect(() => packRecords([pair(0, 'Click', SAMPLE_EVENTS.Click).fields], types)).toThrow(
      /decoded fields/,
    );
  });

  it('packs fetched messages as their records would be packed, with no object per record', async () => {
    const types = tables.clickstream.recordTypes;
    const records = [
      pair(0, 'Impression', SAMPLE_EVENTS.Impression).avro,
      pair(1, 'Click', SAMPLE_EVENTS.Click).avro,
      {
        ...pair(2, 'Click', SAMPLE_EVENTS.Click).avro,
        key: null,
        value: null,
        decoded: { kind: 'tombstone' },
      },
      { ...pair(3, 'Watch', SAMPLE_EVENTS.Watch).avro, timestamp: 2 ** 41 },
    ] as ArchiveRecord[];
    const messages = records.map((r) => ({
      offset: String(r.offset),
      timestamp: String(r.timestamp),
      key: r.key,
      value: r.value,
    }));
    const bodyOf = (value: Buffer) => {
      const decoded = records.find((r) => r.value === value)!.decoded as { recordType: string };
      const type = types.indexOf(decoded.recordType);
      return { type, schemaId: value.readInt32BE(1), start: 5 };
    };
    const run = packMessages(messages, bodyOf)!;
    expect(run.length).toBe(4);
    expect([0, 1, 2, 3].map((i) => [run.offsetAt(i), run.timestampAt(i), run.schemaIdAt(i)])).toEqual([
      [0, T0, 7],
      [1, T0 + 1000, 7],
      [2, T0 + 2000, -1],
      [3, 2 ** 41, 7],
    ]);
    // One value that needs more than its header read sends the whole batch the slow way.
    expect(packMessages(messages, (v) => (v === records[3].value ? null : bodyOf(v)))).toBeNull();

    // Ranges of the run reach a builder as the same records: the file equals one built from the records.
    const options = { table: tables.clickstream, compression: 'snappy' as const };
    const expected = await readFile(await write(createDirectParquetBuilder(options), records));
    const thread = startParquetBuilderThread(silentLogger());
    try {
      for (const builder of [createDirectParquetBuilder(options), thread.builder(options)]) {
        const whole = packMessages(messages, bodyOf)!;
        whole.appendTo(builder, 2, 0, 1);
        whole.appendTo(builder, 2, 1, 4);
        const out = path.join(dir(), `${++files}.parquet`);
        await builder.finish(meta(4), out);
        expect((await readFile(out)).equals(expected)).toBe(true);
      }
      const once = thread.builder(options);
      packMessages(messages, bodyOf)!.appendTo(once, 2, 0, 4);
      const out = path.join(dir(), `${++files}.parquet`);
      await once.finish(meta(4), out);
      expect((await readFile(out)).equals(expected)).toBe(true);
    } finally {
      await thread.close();
    }
  });

  it('writes the same bytes as the builder of the consumer thread, and a dead thread fails only its files', async () => {
    const thread = startParquetBuilderThread(silentLogger());
    try {
      const options = { table: tables.clickstream, compression: 'gzip' as const };
      const inThread = await readFile(await write(createDirectParquetBuilder(options), mixed()));
      const onThread = await readFile(await write(thread.builder(options), mixed()));
      expect(onThread.equals(inThread)).toBe(true);

      const doomed = thread.builder(options);
      doomed.append(2, mixed());
      await thread.crash();
      await expect(doomed.finish(meta(5), path.join(dir(), 'doomed.parquet'))).rejects.toMatchObject({
        code: 'CROUPIER_ERR_ARCHIVE_FILE',
        message: expect.stringMatching(/builder thread stopped/),
      });
      const after = await readFile(await write(thread.builder(options), mixed()));
      expect(after.equals(inThread)).toBe(true);
    } finally {
      await thread.close();
    }
  });
});

describe('Parquet files larger than a column chunk', () => {
  it('a column rolled back across a chunk it had to start holds exactly the values kept', () => {
    const column = new LeafColumn(['v'], 'BYTE_ARRAY', 1, 0);
    const expected: Buffer[] = [];
    const mark = new Float64Array(3);
    for (let i = 0; i < 5000; i++) {
      const value = Buffer.from(`value-${i}-${'x'.repeat(i % 37)}`);
      column.markTo(mark, 0);
      column.putBytes(value, 0, value.length, 0);
      column.putBytes(value, 0, value.length, 0); // a second value that may open a new chunk
      if (i % 3 === 0) column.rollBackTo(mark, 0);
      else {
        column.rollBackTo(mark, 0);
        column.putBytes(value, 0, value.length, 0);
        expected.push(value);
      }
    }
    const values = Buffer.concat(
      expected.map((v) => {
        const out = Buffer.alloc(4 + v.length);
        out.writeUInt32LE(v.length, 0);
        v.copy(out, 4);
        return out;
      }),
    );
    const page = column.page();
    expect(column.values).toBe(expected.length);
    expect(page.subarray(page.length - values.length).equals(values)).toBe(true);
  });

  it('rolls back bad bodies across chunk boundaries and writes the same bytes on the thread as in thread', async () => {
    const records: ArchiveRecord[] = [];
    for (let i = 0; i < 30_000; i++) {
      const r = pair(
        i,
        i % 2 === 0 ? 'Impression' : 'Click',
        i % 2 === 0 ? SAMPLE_EVENTS.Impression : SAMPLE_EVENTS.Click,
      ).avro;
      if (i % 7 === 3) {
        // Truncated: the transcoder reads part of it, then refuses it, and what it wrote is rolled back.
        const d = r.decoded as { kind: 'avro'; body: Buffer };
        const body = d.body.subarray(0, d.body.length - 2);
        records.push({ ...r, value: body, decoded: { ...d, body } as ArchiveRecord['decoded'] });
      } else records.push(r);
    }
    const options = { table: tables.clickstream, compression: 'snappy' as const };
    const inThread = await write(createDirectParquetBuilder(options), records);
    const thread = startParquetBuilderThread(silentLogger());
    try {
      const onThread = await write(thread.builder(options), records);
      expect((await readFile(onThread)).equals(await readFile(inThread))).toBe(true);
    } finally {
      await thread.close();
    }
    const rows = (await query(
      `SELECT count(*)::INTEGER AS n, count(_error)::INTEGER AS bad, count(DISTINCT _offset)::INTEGER AS offsets,
              (count(*) FILTER (WHERE _schema = 'croupier.events.Click' AND _error IS NULL AND itemId = 'i-7' AND slot = 3
                                  AND userId = 'u-42'))::INTEGER AS clicks
         FROM read_parquet('${inThread}')`,
    )) as { n: number; bad: number; offsets: number; clicks: number }[];
    const bad = records.filter((_, i) => i % 7 === 3).length;
    const clicks = records.filter((_, i) => i % 2 === 1 && i % 7 !== 3).length;
    expect(rows[0]).toEqual({ n: 30_000, bad, offsets: 30_000, clicks });
  });
});

/** Snappy's block format read back independently of the compressor (the format, not the code, is shared). */
function snappyDecompress(block: Buffer): Buffer {
  let p = 0;
  let n = 0;
  for (let shift = 0; ; shift += 7) {
    const b = block[p++];
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  const out = Buffer.alloc(n);
  let o = 0;
  while (p < block.length) {
    const tag = block[p++];
    if ((tag & 3) === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        len = block.readUIntLE(p, extra);
        p += extra;
      }
      len += 1;
      block.copy(out, o, p, p + len);
      p += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if ((tag & 3) === 1) {
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | block[p++];
    } else if ((tag & 3) === 2) {
      len = (tag >>> 2) + 1;
      offset = block.readUInt16LE(p);
      p += 2;
    } else throw new Error('4-byte offsets are not written');
    if (offset === 0 || offset > o) throw new Error(`copy offset ${offset} at ${o}`);
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset];
  }
  if (o !== n) throw new Error(`decoded ${o} of ${n} bytes`);
  return out;
}

describe('Snappy pages', () => {
  it('are raw Snappy blocks (no stream framing) for empty, tiny, random, repetitive and mixed inputs', async () => {
    let seed = 7;
    const random = (n: number) =>
      Buffer.from(
        Array.from({ length: n }, () => {
          seed = (seed * 1103515245 + 12345) >>> 0;
          return (seed >>> 16) & 0xff;
        }),
      );
    const inputs = [
      Buffer.alloc(0),
      Buffer.from('a'),
      Buffer.from('abcd'),
      Buffer.alloc(100_000, 0x41),
      random(70_000),
      random(300),
      Buffer.concat(
        Array.from({ length: 2_000 }, (_, i) => Buffer.from(`{"itemId":"i-${i % 37}","slot":${i % 5}}`)),
      ),
      Buffer.concat([random(5_000), Buffer.alloc(3_000, 7), random(70_000), Buffer.alloc(140_000, 1)]),
    ];
    for (const input of inputs) {
      const block = await compressPage(input, 'snappy');
      expect(snappyDecompress(block).equals(input)).toBe(true);
    }
    expect((await compressPage(inputs[3], 'snappy')).length).toBeLessThan(6_000);
    expect((await compressPage(inputs[4], 'snappy')).length).toBeLessThan(70_000 + 70_000 / 6 + 32);
  });
});

/** The records `packRecords` packed, read back through the builder thread's FrameCursor. */
function unpackRecords(ab: ArrayBuffer, recordTypes: readonly string[]): ArchiveRecord[] {
  const buf = Buffer.from(ab);
  const f = new FrameCursor(buf);
  const records: ArchiveRecord[] = [];
  const view = (start: number, length: number) => (length < 0 ? null : buf.subarray(start, start + length));
  while (f.next()) {
    let decoded: DecodedValue;
    if (f.isAvro) {
      const recordType = recordTypes[f.recordType];
      if (recordType === undefined) throw new Error('a packed Avro record lost its type');
      const body = buf.subarray(f.bodyStart, f.bodyStart + f.bodyLength);
      decoded = { kind: 'avro', recordType, schemaId: f.schemaId, body, start: f.start };
    } else if (f.isUndecodable) {
      decoded = {
        kind: 'undecodable',
        error: buf.toString('utf8', f.errorStart, f.errorStart + f.errorLength),
      };
    } else decoded = { kind: 'tombstone' };
    const key = view(f.keyStart, f.keyLength);
    const value = view(f.valueStart, f.valueLength);
    records.push({ offset: f.offset, timestamp: f.timestamp, key, value, decoded });
  }
  return records;
}
