import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AvroDeserializer,
  AvroSerializer,
  SchemaRegistryClient,
  SerdeType,
  SubjectNameStrategyType,
} from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { CroupierError } from '../../src/errors/index.ts';
import { connectSchemaRegistry, startSchemaRegistry } from '../../src/registry/index.ts';
import { startTestRegistry } from '../support/registry.ts';

const record = (fields: object[]) =>
  JSON.stringify({ type: 'record', name: 'Visit', namespace: 'test', fields });
const V1 = record([{ name: 'page', type: 'string' }]);
const V2 = record([
  { name: 'page', type: 'string' },
  { name: 'ms', type: 'long', default: 0 },
]);
const OTHER = JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] });

let dataDir: string;

const clientFor = (url: string) => new SchemaRegistryClient({ baseURLs: [url], maxRetries: 0 });
const topicStrategy = { subjectNameStrategyType: SubjectNameStrategyType.TOPIC };

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'croupier-registry-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('embedded schema registry persistence', () => {
  it('restores subjects, ids and config from its data directory after a restart', async () => {
    const first = await startTestRegistry({ dataDir });
    const before = clientFor(first.url);
    const v1 = await before.register('visits-value', { schemaType: 'AVRO', schema: V1 });
    const bytes = await new AvroSerializer(before, SerdeType.VALUE, {
      ...topicStrategy,
      useLatestVersion: true,
    }).serialize('visits', { page: 'home' });
    const v2 = await before.register('visits-value', { schemaType: 'AVRO', schema: V2 });
    const other = await before.register('other-value', { schemaType: 'AVRO', schema: OTHER });
    await before.updateCompatibility('other-value', 'NONE' as never);
    await before.deleteSubject('other-value');
    await first.close();

    const second = await startTestRegistry({ dataDir });
    try {
      const after = clientFor(second.url);
      expect((await after.getBySubjectAndId('', v1)).schema).toBe(V1);
      expect((await after.getLatestSchemaMetadata('visits-value')).id).toBe(v2);
      expect(await after.getAllSubjects()).toEqual(['visits-value']);
      expect((await after.getBySubjectAndId('', other)).schema).toBe(OTHER);
      expect(await after.getCompatibility('other-value')).toBe('NONE');
      const decoded = await new AvroDeserializer(after, SerdeType.VALUE, topicStrategy).deserialize(
        'visits',
        bytes,
      );
      expect({ ...decoded }).toEqual({ page: 'home' });
      const next = await after.register('next-value', {
        schemaType: 'AVRO',
        schema: JSON.stringify({ type: 'record', name: 'Next', fields: [] }),
      });
      expect(next).toBeGreaterThan(Math.max(v1, v2, other));
    } finally {
      await second.close();
    }
    expect((await readdir(dataDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('restores subjects named after Object.prototype members and their config after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'croupier-registry-proto-'));
    try {
      const first = await startTestRegistry({ dataDir: dir });
      const before = clientFor(first.url);
      const ids = new Map<string, number>();
      for (const subject of ['__proto__', 'constructor', 'visits-value']) {
        ids.set(subject, await before.register(subject, { schemaType: 'AVRO', schema: V1 }));
      }
      await before.updateCompatibility('__proto__', 'NONE' as never);
      await first.close();

      const second = await startTestRegistry({ dataDir: dir });
      try {
        const after = clientFor(second.url);
        expect(await after.getAllSubjects()).toEqual(['__proto__', 'constructor', 'visits-value']);
        expect((await after.getLatestSchemaMetadata('__proto__')).id).toBe(ids.get('__proto__'));
        expect(await after.getCompatibility('__proto__')).toBe('NONE');
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a corrupt state file, naming the file', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'croupier-registry-broken-'));
    try {
      await writeFile(join(broken, 'registry.json'), '{"format": 1, "nextId": ');
      const error = await startSchemaRegistry({ dataDir: broken }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CroupierError);
      expect((error as CroupierError).code).toBe('CROUPIER_ERR_REGISTRY_DATA');
      expect((error as CroupierError).message).toContain(join(broken, 'registry.json'));
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});

describe('schema registry from config', () => {
  it('starts the embedded registry when no URL is configured, and uses the configured one otherwise', async () => {
    const embedded = await connectSchemaRegistry(configSchema.parse({}).schemaRegistry);
    try {
      expect(embedded.embedded).not.toBeNull();
      expect(await clientFor(embedded.url).getAllSubjects()).toEqual([]);
      const external = await connectSchemaRegistry(
        configSchema.parse({
          schemaRegistry: { url: `${embedded.url}/`, username: 'svc', password: 'secret' },
        }).schemaRegistry,
      );
      expect(external).toMatchObject({
        url: embedded.url,
        embedded: null,
        auth: { username: 'svc', password: 'secret' },
      });
      await external.close();
      expect(await clientFor(embedded.url).getAllSubjects()).toEqual([]);
    } finally {
      await embedded.close();
    }
  });
});
