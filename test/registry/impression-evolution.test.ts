import { Compatibility, SchemaRegistryClient } from '@confluentinc/schemaregistry';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSchemaText } from '../../streams/schemas/index.ts';
import { startTestRegistry, type TestRegistry } from '../support/registry.ts';
import { SAMPLE_EVENTS } from '../support/sample-events.ts';

const SHADOW_FIELDS = ['shadowPolicy', 'shadowSlot', 'shadowPropensity'];
const current = JSON.parse(readSchemaText('Impression')) as {
  fields: { name: string; type: unknown; default?: unknown }[];
};
/** The Impression contract as it was before the shadow policy was logged. */
const previous = { ...current, fields: current.fields.filter((f) => !SHADOW_FIELDS.includes(f.name)) };

let registry: TestRegistry;
let client: SchemaRegistryClient;

beforeAll(async () => {
  registry = await startTestRegistry();
  client = new SchemaRegistryClient({ baseURLs: [registry.url], maxRetries: 0 });
});

afterAll(async () => {
  await registry.close();
});

describe('the Impression contract with the shadow policy fields', () => {
  it('adds exactly the three shadow fields, each optional with a null default', () => {
    expect(current.fields.length - previous.fields.length).toBe(3);
    for (const name of SHADOW_FIELDS) {
      const field = current.fields.find((f) => f.name === name);
      expect(field, name).toMatchObject({ default: null, type: ['null', expect.any(String)] });
    }
  });

  for (const level of [Compatibility.BACKWARD, Compatibility.FULL_TRANSITIVE]) {
    it(`registers as a ${level} compatible evolution of the previous version`, async () => {
      const subject = `clickstream-${level.toLowerCase()}-croupier.events.Impression`;
      await client.updateCompatibility(subject, level);
      const first = await client.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(previous) });
      const next = { schemaType: 'AVRO', schema: readSchemaText('Impression') };
      expect(await client.testSubjectCompatibility(subject, next)).toBe(true);
      const second = await client.register(subject, next);
      expect(second).not.toBe(first);
      expect((await client.getLatestSchemaMetadata(subject)).version).toBe(2);
    });
  }

  it('reads impressions written before the change with null shadow fields, and new ones with old readers', () => {
    const oldType = avro.Type.forSchema(previous as avro.Schema);
    const newType = avro.Type.forSchema(current as avro.Schema);
    const old = oldType.toBuffer(SAMPLE_EVENTS.Impression);
    const upgraded = newType.fromBuffer(old, newType.createResolver(oldType));
    expect(upgraded).toMatchObject({ shadowPolicy: null, shadowSlot: null, shadowPropensity: null });
    const shadowed = {
      ...SAMPLE_EVENTS.Impression,
      shadowPolicy: 'greedy',
      shadowSlot: 1,
      shadowPropensity: 0.5,
    };
    const downgraded = oldType.fromBuffer(newType.toBuffer(shadowed), oldType.createResolver(newType));
    expect(downgraded).toMatchObject({ itemId: shadowed.itemId, propensity: shadowed.propensity });
    expect(downgraded).not.toHaveProperty('shadowPolicy');
  });
});
