/**
 * The embedded registry's limits: a schema longer than `maxSchemaChars` is refused before it is parsed, and once
 * the schemas it holds reach `maxStoredChars` a new one is refused until unused ones are deleted for good. Before,
 * any client could grow the registry by 5.5 MB of parsed schema a request, for as long as it ran.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SchemaRegistryHandle, startSchemaRegistry } from '../../src/registry/index.ts';

let registry: SchemaRegistryHandle;
beforeAll(async () => {
  registry = await startSchemaRegistry({ limits: { maxSchemaChars: 400, maxStoredChars: 600 } });
});
afterAll(async () => {
  await registry?.close();
});

/** A record schema named `name` with `fields` int fields. */
const schema = (name: string, fields: number) =>
  JSON.stringify({
    type: 'record',
    name,
    fields: Array.from({ length: fields }, (_, i) => ({ name: `f${i}`, type: 'int' })),
  });

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${registry.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const register = (subject: string, text: string) =>
  call('POST', `/subjects/${subject}/versions`, { schema: text });

describe('embedded schema registry limits', () => {
  it('refuses a schema over the length limit, before parsing it, whatever it is sent for', async () => {
    const long = schema('Long', 30);
    expect(long.length).toBeGreaterThan(400);
    const refused = await register('long-value', long);
    expect(refused.status).toBe(413);
    expect(refused.body.error_code).toBe(413);
    expect(String(refused.body.message)).toMatch(/over this registry's limit of 400 .*maxSchemaChars/);
    // Not even valid Avro: refused for its length, not parsed.
    expect((await register('long-value', `"${'x'.repeat(500)}"`)).status).toBe(413);
    // Looked up or checked for compatibility: parsed as a registration would be, so held to the same limit.
    expect((await call('POST', '/subjects/long-value', { schema: long })).status).toBe(413);
    expect(
      (await call('POST', '/compatibility/subjects/long-value/versions/latest', { schema: long })).status,
    ).toBe(413);
  });

  it('refuses new schemas once it holds its limit, takes known ones, and has room again after a permanent delete', async () => {
    const kept: string[] = [];
    let full: Awaited<ReturnType<typeof register>> | undefined;
    for (let i = 0; i < 20 && full === undefined; i++) {
      const text = schema(`S${i}`, 3);
      const answer = await register(`s${i}-value`, text);
      if (answer.status === 200) kept.push(text);
      else full = answer;
    }
    expect(kept.length).toBeGreaterThan(1);
    expect(full?.status).toBe(413);
    expect(String(full?.body.message)).toMatch(/holds \d+ characters of schemas.*limit of 600/);
    // A schema it holds already costs nothing more: registered under another subject.
    expect((await register('again-value', kept[0])).status).toBe(200);
    // Deleted for good, its schemas make room.
    for (const subject of ['s1-value', 's2-value']) {
      expect((await call('DELETE', `/subjects/${subject}`)).status).toBe(200);
      expect((await call('DELETE', `/subjects/${subject}?permanent=true`)).status).toBe(200);
    }
    expect((await register('later-value', schema('Later', 3))).status).toBe(200);
  });
});
