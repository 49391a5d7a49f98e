import {
  AvroDeserializer,
  AvroSerializer,
  Compatibility,
  RestError,
  SchemaRegistryClient,
  SerdeType,
  SubjectNameStrategyType,
} from '@confluentinc/schemaregistry';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../support/registry.ts';

const record = (name: string, fields: object[]) =>
  JSON.stringify({ type: 'record', name, namespace: 'test', fields });
const avroSchema = (schema: string) => ({ schemaType: 'AVRO', schema });

const V1 = record('Play', [
  { name: 'userId', type: 'string' },
  { name: 'ms', type: 'long' },
]);
const V2 = record('Play', [
  { name: 'userId', type: 'string' },
  { name: 'ms', type: 'long' },
  { name: 'device', type: 'string', default: 'unknown' },
]);
/** `ms` changed from long to string: neither old nor new readers can read the other's data. */
const BROKEN = record('Play', [
  { name: 'userId', type: 'string' },
  { name: 'ms', type: 'string' },
]);

let registry: TestRegistry;
let client: SchemaRegistryClient;

const freshClient = () => new SchemaRegistryClient({ baseURLs: [registry.url], maxRetries: 0 });

async function restError(promise: Promise<unknown>): Promise<RestError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RestError);
  return error as RestError;
}

beforeAll(async () => {
  registry = await startTestRegistry();
  client = freshClient();
});

afterAll(async () => {
  await registry.close();
});

describe('embedded schema registry with the Confluent client', () => {
  it('serializes in the Confluent wire format and deserializes with AvroSerializer/AvroDeserializer', async () => {
    const id = await client.register('plays-value', avroSchema(V1));
    const serializer = new AvroSerializer(client, SerdeType.VALUE, {
      useLatestVersion: true,
      subjectNameStrategyType: SubjectNameStrategyType.TOPIC,
    });
    const deserializer = new AvroDeserializer(freshClient(), SerdeType.VALUE, {
      subjectNameStrategyType: SubjectNameStrategyType.TOPIC,
    });
    const value = { userId: 'u-1', ms: 1234 };

    const bytes = await serializer.serialize('plays', value);

    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(id);
    expect(bytes.subarray(5).equals(avro.Type.forSchema(JSON.parse(V1)).toBuffer(value))).toBe(true);
    expect({ ...(await deserializer.deserialize('plays', bytes)) }).toEqual(value);
  });

  it('gives the same id to the same schema, registered again or under another subject', async () => {
    const first = await client.register('same-a-value', avroSchema(V1));
    const again = await freshClient().register('same-a-value', avroSchema(V1));
    const other = await client.register('same-b-value', avroSchema(V1));
    expect(again).toBe(first);
    expect(other).toBe(first);
    expect(await client.getAllVersions('same-a-value')).toEqual([1]);
  });

  it('evolves a subject compatibly and reads old data with the new schema', async () => {
    const subject = 'evolve-value';
    const v1 = await client.register(subject, avroSchema(V1));
    const oldBytes = await new AvroSerializer(client, SerdeType.VALUE, {
      useLatestVersion: true,
      subjectNameStrategyType: SubjectNameStrategyType.TOPIC,
    }).serialize('evolve', { userId: 'u-2', ms: 5 });

    expect(await client.testSubjectCompatibility(subject, avroSchema(V2))).toBe(true);
    const v2 = await client.register(subject, avroSchema(V2));

    expect(v2).not.toBe(v1);
    expect(await client.getAllVersions(subject)).toEqual([1, 2]);
    const latest = await freshClient().getLatestSchemaMetadata(subject);
    expect(latest).toMatchObject({ subject, version: 2, id: v2 });
    const reader = new AvroDeserializer(freshClient(), SerdeType.VALUE, {
      useLatestVersion: true,
      subjectNameStrategyType: SubjectNameStrategyType.TOPIC,
    });
    expect({ ...(await reader.deserialize('evolve', oldBytes)) }).toEqual({
      userId: 'u-2',
      ms: 5,
      device: 'unknown',
    });
  });

  it('refuses an incompatible version with HTTP 409 and keeps the subject as it was', async () => {
    const subject = 'refuse-value';
    await client.register(subject, avroSchema(V1));

    expect(await client.testSubjectCompatibility(subject, avroSchema(BROKEN))).toBe(false);
    const error = await restError(client.register(subject, avroSchema(BROKEN)));

    expect(error.status).toBe(409);
    expect(error.errorCode).toBe(409);
    expect(error.message).toMatch(/incompatible/);
    expect(await client.getAllVersions(subject)).toEqual([1]);
  });

  it('applies a per-subject compatibility level over the global BACKWARD default', async () => {
    expect(await client.getDefaultCompatibility()).toBe(Compatibility.BACKWARD);
    await client.register('loose-value', avroSchema(V1));
    await client.register('strict-value', avroSchema(V1));

    expect(await client.updateCompatibility('loose-value', Compatibility.NONE)).toBe(Compatibility.NONE);
    expect(await client.getCompatibility('loose-value')).toBe(Compatibility.NONE);

    await client.register('loose-value', avroSchema(BROKEN));
    expect(await client.getAllVersions('loose-value')).toEqual([1, 2]);
    expect((await restError(client.register('strict-value', avroSchema(BROKEN)))).status).toBe(409);
  });

  it('checks FORWARD and transitive levels against the right versions', async () => {
    const noDefault = record('Play', [
      { name: 'userId', type: 'string' },
      { name: 'ms', type: 'long' },
      { name: 'device', type: 'string' },
    ]);
    // BACKWARD compares with the latest version only: noDefault can read V2's data, not V1's.
    await client.register('chain-value', avroSchema(V1));
    await client.register('chain-value', avroSchema(V2));
    await client.updateCompatibility('chain-value', Compatibility.BACKWARD_TRANSITIVE);
    expect((await restError(client.register('chain-value', avroSchema(noDefault)))).errorCode).toBe(409);
    await client.updateCompatibility('chain-value', Compatibility.BACKWARD);
    expect(await client.register('chain-value', avroSchema(noDefault))).toBeGreaterThan(0);

    // FORWARD: old readers must read new data, so dropping a field old readers need is refused.
    await client.register('forward-value', avroSchema(V2));
    await client.updateCompatibility('forward-value', Compatibility.FORWARD);
    const dropped = record('Play', [{ name: 'userId', type: 'string' }]);
    expect((await restError(client.register('forward-value', avroSchema(dropped)))).status).toBe(409);
    expect(await client.register('forward-value', avroSchema(noDefault))).toBeGreaterThan(0);
  });

  it('looks up, lists and deletes subjects and versions', async () => {
    const id = await client.register('gone-value', avroSchema(V1));
    await client.register('gone-value', avroSchema(V2));

    expect(await freshClient().getIdFullResponse('gone-value', avroSchema(V1))).toMatchObject({
      id,
      version: 1,
    });
    expect(await freshClient().getSchemaMetadata('gone-value', 1)).toMatchObject({ id, version: 1 });
    expect(await client.getAllSubjects()).toContain('gone-value');

    expect(await client.deleteSubjectVersion('gone-value', 2)).toBe(2);
    expect(await client.getAllVersions('gone-value')).toEqual([1]);
    expect(await client.deleteSubject('gone-value')).toEqual([1]);
    expect(await client.getAllSubjects()).not.toContain('gone-value');
    expect((await restError(freshClient().getLatestSchemaMetadata('gone-value'))).errorCode).toBe(40401);
    // A soft-deleted subject's ids still resolve, so records written with them stay readable.
    expect((await freshClient().getBySubjectAndId('', id)).schema).toBe(JSON.stringify(JSON.parse(V1)));

    expect(await client.deleteSubject('gone-value', true)).toEqual([1, 2]);
    expect((await restError(client.deleteSubject('gone-value'))).errorCode).toBe(40401);
  });
});
