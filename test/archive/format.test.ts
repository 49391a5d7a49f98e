import path from 'node:path';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createAvroBuilder, rowTypeOf } from '../../src/archive/format/avro-builder.ts';
import { topicTableOf } from '../../src/archive/format/columns.ts';
import { createDuckDbParquetBuilder } from '../../src/archive/format/duckdb-parquet-builder.ts';
import type { ArchiveRecord } from '../../src/archive/format/rows.ts';
import { loadSchemas, type SchemaName } from '../../streams/schemas/index.ts';
import { SAMPLE_EVENTS } from '../support/sample-events.ts';
import { topicTables, useDuckDb } from './support/format-fixture.ts';

const schemas = loadSchemas();
const { clickstream, items, deadLetters } = topicTables();

const T0 = Date.parse('2026-03-01T10:15:00Z');
const meta = {
  topic: 't',
  partition: 3,
  startOffset: 10,
  endOffset: 13,
  records: 4,
  writerSchemas: { '1': '{}' },
};

function recordOf(offset: number, name: SchemaName, schemaId = 1): ArchiveRecord {
  return {
    offset,
    timestamp: T0 + offset,
    key: Buffer.from(`k${offset}`),
    value: Buffer.from([0, 0, 0, 0, schemaId]),
    decoded: {
      kind: 'value',
      recordType: schemas[name].name!,
      schemaId,
      fields: schemas[name].clone(SAMPLE_EVENTS[name]) as Record<string, unknown>,
    },
  };
}

const { dir, query, instance: duckdb } = useDuckDb('archive-format-');

describe('topic tables', () => {
  it('gives the clickstream the union of its record types, then the Kafka columns', () => {
    const names = clickstream.columns.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['eventId', 'slot', 'context', 'value', 'watchTimeMs', 'shadowPropensity']),
    );
    expect(names.slice(-8)).toEqual([
      '_schema',
      '_schema_id',
      '_partition',
      '_offset',
      '_timestamp',
      '_key',
      '_raw',
      '_error',
    ]);
    expect(clickstream.columns.find((c) => c.name === 'timestamp')?.duck).toBe('TIMESTAMPTZ');
    expect(clickstream.columns.find((c) => c.name === 'context')?.duck).toMatch(/^STRUCT\("device" VARCHAR/);
    expect(clickstream.recordTypes).toEqual([
      'croupier.events.Impression',
      'croupier.events.Click',
      'croupier.events.Conversion',
      'croupier.events.Watch',
      'croupier.events.Carousel',
    ]);
    expect(clickstream.columns.find((c) => c.name === 'items')?.duck).toMatch(
      /^STRUCT\("itemId" VARCHAR.*"features" FLOAT\[\]\)\[\]$/,
    );
  });

  it('refuses two record types that give one field two types', () => {
    const a = { type: 'record', name: 'A', fields: [{ name: 'x', type: 'int' }] };
    const b = { type: 'record', name: 'B', fields: [{ name: 'x', type: 'string' }] };
    expect(() => topicTableOf('t', [a, b])).toThrow(
      /x of topic t is INTEGER in one record type and VARCHAR in B/,
    );
  });
});

describe('Parquet files', () => {
  it('keeps every field, nested records as structs, timestamps as timestamps, and the metadata', async () => {
    const staging = path.join(dir(), 'a.ndjson');
    const out = path.join(dir(), 'a.parquet');
    const builder = createDuckDbParquetBuilder({
      duckdb: duckdb(),
      table: clickstream,
      compression: 'zstd',
      stagingPath: staging,
    });
    builder.append(3, [recordOf(10, 'Impression'), recordOf(11, 'Click')]);
    builder.append(3, [recordOf(12, 'Conversion'), recordOf(13, 'Watch')]);
    expect(await builder.finish({ ...meta, topic: 'clickstream' }, out)).toBeGreaterThan(0);
    const rows = await query(
      `SELECT _schema, _offset::DOUBLE AS _offset, _partition, epoch_ms(_timestamp)::DOUBLE AS ts, epoch_ms("timestamp")::DOUBLE AS t, decode(_key) AS k, context.device AS device, slot, value FROM '${out}' ORDER BY _offset`,
    );
    expect(rows.map((r) => r._schema)).toEqual(clickstream.recordTypes.slice(0, 4));
    expect(rows[0]).toMatchObject({
      _offset: 10,
      _partition: 3,
      ts: T0 + 10,
      k: 'k10',
      t: SAMPLE_EVENTS.Impression.timestamp,
    });
    expect(rows[0].device).toBe(SAMPLE_EVENTS.Impression.context?.device);
    expect(rows[2].value).toBe(SAMPLE_EVENTS.Conversion.value);
    const types = await query(
      `SELECT name, logical_type FROM parquet_schema('${out}') WHERE name IN ('timestamp', '_timestamp')`,
    );
    expect(types.every((t) => String(t.logical_type).includes('isAdjustedToUTC=1'))).toBe(true);
    const kv = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${out}')`);
    const metadata = Object.fromEntries(kv.map((r) => [r.k, r.v]));
    expect(metadata).toMatchObject({
      'croupier.topic': 'clickstream',
      'croupier.partition': '3',
      'croupier.startOffset': '10',
      'croupier.endOffset': '13',
      'croupier.schemaIds': '1',
    });
  });

  it('keeps the bytes of dead letters and the undecodable records with why', async () => {
    const staging = path.join(dir(), 'b.ndjson');
    const out = path.join(dir(), 'b.parquet');
    const builder = createDuckDbParquetBuilder({
      duckdb: duckdb(),
      table: deadLetters,
      compression: 'snappy',
      stagingPath: staging,
    });
    const bad: ArchiveRecord = {
      offset: 1,
      timestamp: T0,
      key: null,
      value: Buffer.from([9, 8, 7]),
      decoded: { kind: 'undecodable', error: 'bad magic' },
    };
    builder.append(0, [recordOf(0, 'DeadLetter'), bad]);
    await builder.finish(meta, out);
    const rows = await query(
      `SELECT hex("value") AS v, hex(_raw) AS raw, _error, _key FROM '${out}' ORDER BY _offset`,
    );
    expect(rows[0].v).toBe(Buffer.from(SAMPLE_EVENTS.DeadLetter.value!).toString('hex').toUpperCase());
    expect(rows[1]).toMatchObject({ v: null, raw: '090807', _error: 'bad magic', _key: null });
  });

  it('converts timestamps nested in structs (CDC rows)', async () => {
    const out = path.join(dir(), 'c.parquet');
    const builder = createDuckDbParquetBuilder({
      duckdb: duckdb(),
      table: items,
      compression: 'zstd',
      stagingPath: path.join(dir(), 'c.ndjson'),
    });
    builder.append(0, [recordOf(5, 'ItemChange')]);
    await builder.finish(meta, out);
    const [row] = await query(
      `SELECT epoch_ms("after".createdAt)::DOUBLE AS created, typeof("after".createdAt) AS type FROM '${out}'`,
    );
    expect(row).toEqual({
      created: SAMPLE_EVENTS.ItemChange.after?.createdAt,
      type: 'TIMESTAMP WITH TIME ZONE',
    });
  });
});

describe('Avro container files', () => {
  it('are read back by avsc with the rows, deflate and the metadata', async () => {
    const out = path.join(dir(), 'd.avro');
    const rowType = rowTypeOf(clickstream);
    const builder = createAvroBuilder({
      table: clickstream,
      rowType,
      stagingPath: path.join(dir(), 'd.staged'),
    });
    builder.append(3, [recordOf(10, 'Impression'), recordOf(11, 'Click')]);
    builder.append(3, [recordOf(12, 'Watch')]);
    await builder.finish({ ...meta, endOffset: 12, records: 3 }, out);
    const rows: Record<string, unknown>[] = [];
    let header: { meta: Record<string, Buffer> } | undefined;
    await new Promise<void>((resolve, reject) => {
      avro
        .createFileDecoder(out)
        .on('metadata', (_type: unknown, codec: string, h: { meta: Record<string, Buffer> }) => {
          expect(codec).toBe('deflate');
          header = h;
        })
        .on('data', (row: Record<string, unknown>) => rows.push(row))
        .on('end', resolve)
        .on('error', reject);
    });
    expect(rows.map((r) => [r._offset, r._schema])).toEqual([
      [10, 'croupier.events.Impression'],
      [11, 'croupier.events.Click'],
      [12, 'croupier.events.Watch'],
    ]);
    expect(rows[0].itemId).toBe(SAMPLE_EVENTS.Impression.itemId);
    expect(rows[1].policy).toBeNull();
    expect(header?.meta['croupier.endOffset'].toString()).toBe('12');
  });
});
