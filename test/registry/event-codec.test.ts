import {
  AvroDeserializer,
  SchemaRegistryClient,
  SerdeType,
  SubjectNameStrategyType,
} from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CroupierError, type ErrorCode } from '../../src/errors/index.ts';
import { createEventCodec, type EventCodec } from '../../src/kafka/index.ts';
import { loadSchemas, readSchemaText, SCHEMA_NAMES, type Schemas } from '../../streams/schemas/index.ts';
import { nestedRecords } from '../support/avro-types.ts';
import { startTestRegistry, type TestRegistry } from '../support/registry.ts';
import { SAMPLE_EVENTS } from '../support/sample-events.ts';

const TOPICS = {
  clickstream: 'clickstream',
  cdcItems: 'cdc.items',
  cdcUsers: 'cdc.users',
  deadLetter: 'croupier.dlq',
};
const TOPIC_OF = {
  Impression: TOPICS.clickstream,
  Click: TOPICS.clickstream,
  Conversion: TOPICS.clickstream,
  Watch: TOPICS.clickstream,
  ItemChange: TOPICS.cdcItems,
  UserChange: TOPICS.cdcUsers,
  DeadLetter: TOPICS.deadLetter,
  Carousel: TOPICS.clickstream,
} as const;

let registry: TestRegistry;
let schemas: Schemas;
let codec: EventCodec;
let client: SchemaRegistryClient;

async function failureCode(promise: Promise<unknown>): Promise<ErrorCode> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CroupierError);
  return (error as CroupierError).code;
}

interface Field {
  name: string;
  type: unknown;
}

/** Registers a Click schema that evolved elsewhere under its own subject; returns its id. */
async function registerClickVariant(subject: string, evolve: (fields: Field[]) => Field[]): Promise<number> {
  const click = JSON.parse(readSchemaText('Click'));
  click.fields = evolve(click.fields);
  await client.updateCompatibility(subject, 'NONE' as never);
  return client.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(click) });
}

/** A Click in the contract's own bytes under schema id `id` (a writer whose other fields it lacks). */
async function contractClickWithId(id: number): Promise<Buffer> {
  const { default: avro } = await import('avsc');
  const header = Buffer.from([0, 0, 0, 0, 0]);
  header.writeInt32BE(id, 1);
  return Buffer.concat([
    header,
    avro.Type.forSchema(JSON.parse(readSchemaText('Click'))).toBuffer(SAMPLE_EVENTS.Click),
  ]);
}

beforeAll(async () => {
  registry = await startTestRegistry();
  schemas = loadSchemas();
  codec = createEventCodec({ registryUrl: registry.url, schemas });
  client = new SchemaRegistryClient({ baseURLs: [registry.url], maxRetries: 0 });
});

afterAll(async () => {
  await registry.close();
});

describe('Avro event codec', () => {
  it('registers every contract under its topic subject', async () => {
    const registered = await codec.registerAll(TOPICS);

    expect(registered.map((r) => r.subject).sort()).toEqual(
      [
        'cdc.items-value',
        'cdc.users-value',
        'clickstream-croupier.events.Carousel',
        'clickstream-croupier.events.Click',
        'clickstream-croupier.events.Conversion',
        'clickstream-croupier.events.Impression',
        'clickstream-croupier.events.Watch',
        'croupier.dlq-value',
      ].sort(),
    );
    expect(new Set(registered.map((r) => r.id)).size).toBe(8);
    expect((await client.getAllSubjects()).length).toBe(8);
    expect(await codec.registerAll(TOPICS)).toEqual(registered);
  });

  it('encodes and decodes all eight contracts in the Confluent wire format', async () => {
    for (const name of SCHEMA_NAMES) {
      const bytes = await codec.encode(TOPIC_OF[name], name, SAMPLE_EVENTS[name]);
      const id = await codec.register(TOPIC_OF[name], name);
      expect(bytes[0]).toBe(0);
      expect(bytes.readInt32BE(1)).toBe(id);
      expect(bytes.subarray(5).equals(schemas[name].toBuffer(SAMPLE_EVENTS[name]))).toBe(true);

      const decoded = await createEventCodec({ registryUrl: registry.url, schemas }).decode(bytes);
      expect(decoded.schemaName).toBe(name);
      expect(decoded.fullName).toBe(schemas[name].name);
      expect(decoded.schemaId).toBe(id);
      expect(schemas[name].toBuffer(decoded.value).equals(bytes.subarray(5))).toBe(true);
    }
  });

  it('writes records the Confluent AvroDeserializer reads with the topic-record subject strategy', async () => {
    const bytes = await codec.encode(TOPICS.clickstream, 'Conversion', SAMPLE_EVENTS.Conversion);
    const deserializer = new AvroDeserializer(client, SerdeType.VALUE, {
      subjectNameStrategyType: SubjectNameStrategyType.TOPIC_RECORD,
    });
    expect({ ...(await deserializer.deserialize(TOPICS.clickstream, bytes)) }).toEqual(
      SAMPLE_EVENTS.Conversion,
    );
  });

  it('keeps encoding and decoding known schemas when the registry is gone', async () => {
    const scratch = await startTestRegistry();
    const local = createEventCodec({ registryUrl: scratch.url, schemas });
    const click = await local.encode(TOPICS.clickstream, 'Click', SAMPLE_EVENTS.Click);
    await scratch.close();

    const again = await local.encode(TOPICS.clickstream, 'Click', { ...SAMPLE_EVENTS.Click, eventId: 'e-2' });
    expect((await local.decode(click)).value).toEqual(SAMPLE_EVENTS.Click);
    expect((await local.decode(again)).value).toMatchObject({ eventId: 'e-2' });
    expect(await failureCode(local.encode(TOPICS.clickstream, 'Watch', SAMPLE_EVENTS.Watch))).toBe(
      'CROUPIER_ERR_REGISTRY_UNAVAILABLE',
    );
  });

  it('reads a record written with an evolved schema as the local contract', async () => {
    const id = await registerClickVariant('other-croupier.events.Click', (fields) => [
      ...fields,
      { name: 'referrer', type: 'string', default: '' } as Field,
    ]);
    const writer = JSON.parse((await client.getBySubjectAndId('', id)).schema);
    const { default: avro } = await import('avsc');
    const body = avro.Type.forSchema(writer).toBuffer({ ...SAMPLE_EVENTS.Click, referrer: 'home' });
    const header = Buffer.from([0, 0, 0, 0, 0]);
    header.writeInt32BE(id, 1);

    const decoded = await codec.decode(Buffer.concat([header, body]));

    expect(decoded.schemaName).toBe('Click');
    expect(decoded.value).toEqual(SAMPLE_EVENTS.Click);
  });

  it('refuses a writer schema with an array whose items take no bytes, which a record could make endless', async () => {
    // A Click that evolved elsewhere with `pad`, an array of null (or of an empty record): each item is zero
    // bytes, so the array's block count alone says how many there are. 10^7 here; a record of the same size can
    // say 2^50, and the reader's skip of the field would loop that many times on the thread reading it.
    const { default: avro } = await import('avsc');
    const varint = (n: bigint) => {
      const out: number[] = [];
      for (let v = n << 1n; ; v >>= 7n) {
        if (v < 0x80n) return Buffer.from([...out, Number(v)]);
        out.push(Number((v & 0x7fn) | 0x80n));
      }
    };
    for (const [subject, items] of [
      ['nulls-croupier.events.Click', 'null'],
      ['empties-croupier.events.Click', { type: 'record', name: 'Empty', fields: [] }],
    ] as const) {
      const id = await registerClickVariant(subject, (fields) => [
        ...fields,
        { name: 'pad', type: { type: 'array', items }, default: [] } as Field,
      ]);
      const writer = avro.Type.forSchema(JSON.parse((await client.getBySubjectAndId('', id)).schema));
      const empty = writer.toBuffer({ ...SAMPLE_EVENTS.Click, pad: [] });
      const body = Buffer.concat([empty.subarray(0, -1), varint(10_000_000n), Buffer.from([0])]);
      const header = Buffer.from([0, 0, 0, 0, 0]);
      header.writeInt32BE(id, 1);
      const error = await codec.decode(Buffer.concat([header, body])).then(
        () => null,
        (e: unknown) => e as CroupierError,
      );
      expect(error?.code, subject).toBe('CROUPIER_ERR_SERDE_INCOMPATIBLE');
      expect(error?.message).toContain('pad');
    }
  });

  it('refuses a writer schema whose named types expand into more fields than a record could hold', async () => {
    // A Click that evolved elsewhere with `pad`, a record of ten fields of the record before it, four deep, ending in
    // ten ints: 111,119 types to read a Click, from a 2.3 KB schema. Twelve deep, one 41-byte Click held the topology and
    // archive threads for good (10^13 ints skipped, past the end of the record as zeros).
    const id = await registerClickVariant('nested-croupier.events.Click', (fields) => [
      ...fields,
      { name: 'pad', type: nestedRecords(4, 'int') },
    ]);
    const error = await codec.decode(await contractClickWithId(id)).then(
      () => null,
      (e: unknown) => e as CroupierError,
    );
    expect(error?.code).toBe('CROUPIER_ERR_SERDE_INCOMPATIBLE');
    expect(error?.message).toContain('pad: 111119 types to read');
  });

  it('reads a record of another writer schema no further than its bytes', async () => {
    // The same `pad` through unions, twelve deep: each value is a few types, but past the end of the record every
    // union reads branch 0 from the zeros there, and avsc skipped 10^13 of them. The record is cut short.
    const id = await registerClickVariant('unions-croupier.events.Click', (fields) => [
      ...fields,
      { name: 'pad', type: nestedRecords(12, 'int', true) },
    ]);
    expect(await failureCode(codec.decode(await contractClickWithId(id)))).toBe('CROUPIER_ERR_SERDE_DECODE');
  });

  it('judges a refused schema id once, however many records name it', async () => {
    // A schema of megabytes (three records of 60,000 fields under another subject) was parsed again for each record
    // naming its id: 60 records of 6 bytes held the topology and archive threads past their watchdog, and each
    // restarted thread read them again. An id names one schema for good, so its refusal is kept.
    const foreignId = await client.register('judged-once-value', {
      schemaType: 'AVRO',
      schema: JSON.stringify({ type: 'record', name: 'Wide', fields: [{ name: 'x', type: 'int' }] }),
    });
    const incompatibleId = await registerClickVariant('judged-once-croupier.events.Click', (fields) =>
      fields.map((f) => (f.name === 'itemId' ? { ...f, type: 'int' } : f)),
    );
    for (const id of [foreignId, incompatibleId]) {
      const record = await contractClickWithId(id);
      const refusals: unknown[] = [];
      for (let i = 0; i < 3; i++) refusals.push(await codec.decode(record).catch((e: unknown) => e));
      expect(refusals[0]).toBeInstanceOf(CroupierError);
      expect(refusals[1]).toBe(refusals[0]);
      expect(refusals[2]).toBe(refusals[0]);
    }
  });

  it('refuses a record whose array says more items than it has bytes, without building them', async () => {
    // An ItemChange of about 70 bytes whose tags say 2^31 - 1 items: read as the count said, past the end of the
    // record, it filled an array until the thread's heap ran out.
    const good = await codec.encode(TOPICS.cdcItems, 'ItemChange', {
      ...SAMPLE_EVENTS.ItemChange,
      after: { ...SAMPLE_EVENTS.ItemChange.after!, tags: ['ZZ'] },
    });
    const at = good.indexOf(Buffer.from('ZZ')) - 2;
    const count = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]); // zigzag varint of 2^31 - 1
    const bomb = Buffer.concat([good.subarray(0, at), count, good.subarray(at + 4)]);
    expect(await failureCode(codec.decode(bomb))).toBe('CROUPIER_ERR_SERDE_DECODE');
  });

  it('rejects bad bytes with the codes the topology dead-letters on', async () => {
    const good = await codec.encode(TOPICS.clickstream, 'Impression', SAMPLE_EVENTS.Impression);
    const withId = (id: number) => {
      const copy = Buffer.from(good);
      copy.writeInt32BE(id, 1);
      return copy;
    };
    const foreignId = await client.register('foreign-value', {
      schemaType: 'AVRO',
      schema: JSON.stringify({ type: 'record', name: 'Foreign', fields: [{ name: 'x', type: 'int' }] }),
    });
    const incompatibleId = await registerClickVariant('broken-croupier.events.Click', (fields) =>
      fields.map((f) => (f.name === 'requestId' ? { ...f, type: 'int' } : f)),
    );

    expect(await failureCode(codec.decode(Buffer.alloc(0)))).toBe('CROUPIER_ERR_SERDE_MAGIC');
    expect(await failureCode(codec.decode(good.subarray(0, 3)))).toBe('CROUPIER_ERR_SERDE_MAGIC');
    expect(await failureCode(codec.decode(Buffer.concat([Buffer.from([1]), good.subarray(1)])))).toBe(
      'CROUPIER_ERR_SERDE_MAGIC',
    );
    expect(await failureCode(codec.decode(withId(99_999)))).toBe('CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA');
    expect(await failureCode(codec.decode(withId(foreignId)))).toBe('CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA');
    expect(await failureCode(codec.decode(withId(incompatibleId)))).toBe('CROUPIER_ERR_SERDE_INCOMPATIBLE');
    expect(await failureCode(codec.decode(good.subarray(0, good.length - 4)))).toBe(
      'CROUPIER_ERR_SERDE_DECODE',
    );
    expect(await failureCode(codec.decode(good.subarray(0, 5)))).toBe('CROUPIER_ERR_SERDE_DECODE');
    expect(await failureCode(codec.decode(Buffer.concat([good, Buffer.from([1, 2])])))).toBe(
      'CROUPIER_ERR_SERDE_DECODE',
    );
    // The codec is still fine afterwards.
    expect((await codec.decode(good)).value).toEqual(SAMPLE_EVENTS.Impression);
  });

  it('encodes and decodes without a promise once ids are known', async () => {
    const fresh = createEventCodec({ registryUrl: registry.url, schemas });
    const bytes = await codec.encode(TOPICS.cdcItems, 'ItemChange', SAMPLE_EVENTS.ItemChange);

    expect(() => fresh.encodeSync(TOPICS.cdcItems, 'ItemChange', SAMPLE_EVENTS.ItemChange)).toThrow(
      /registerAll/,
    );
    expect(fresh.decodeSync(bytes)).toBeNull();
    expect((await fresh.decode(bytes)).value).toEqual(SAMPLE_EVENTS.ItemChange);
    expect(fresh.decodeSync(bytes)?.value).toEqual(SAMPLE_EVENTS.ItemChange);

    await fresh.registerAll(TOPICS);
    expect(fresh.encodeSync(TOPICS.cdcItems, 'ItemChange', SAMPLE_EVENTS.ItemChange).equals(bytes)).toBe(
      true,
    );
    expect(() => fresh.decodeSync(bytes.subarray(0, 9))).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_SERDE_DECODE' }),
    );
  });

  it('refuses to encode a value that does not match its contract, naming the field', async () => {
    const bad = { ...SAMPLE_EVENTS.Watch, watchTimeMs: 'long' } as never;
    const error = await codec.encode(TOPICS.clickstream, 'Watch', bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CroupierError);
    expect((error as CroupierError).code).toBe('CROUPIER_ERR_SERDE_ENCODE');
    expect((error as CroupierError).message).toMatch(/watchTimeMs/);
  });
});
