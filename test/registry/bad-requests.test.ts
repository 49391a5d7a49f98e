import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../support/registry.ts';

const SCHEMA = JSON.stringify({ type: 'record', name: 'Ping', fields: [{ name: 'n', type: 'int' }] });
const JSON_TYPE = 'application/vnd.schemaregistry.v1+json';

let registry: TestRegistry;

async function call(method: string, path: string, body?: string, contentType = JSON_TYPE) {
  const response = await fetch(`${registry.url}${path}`, {
    method,
    ...(body === undefined ? {} : { body, headers: { 'content-type': contentType } }),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: JSON.parse(text),
  };
}

beforeAll(async () => {
  registry = await startTestRegistry();
  await call('POST', '/subjects/ping-value/versions', JSON.stringify({ schema: SCHEMA }));
});

afterAll(async () => {
  await registry.close();
});

describe('embedded schema registry: bad requests', () => {
  it('answers each bad request with a Confluent-style JSON error and keeps serving', async () => {
    const cases: [string, string, string | undefined, number, number, RegExp][] = [
      ['POST', '/subjects/ping-value/versions', '{"schema": ', 400, 400, /Malformed JSON/],
      ['POST', '/subjects/ping-value/versions', undefined, 400, 400, /JSON body/],
      ['POST', '/subjects/ping-value/versions', '{"schema":"{\\"type\\":\\"nope\\"}"}', 422, 42201, /Avro/],
      ['POST', '/subjects/ping-value/versions', '{"schema":"not json"}', 422, 42201, /not valid JSON/],
      ['POST', '/subjects/ping-value/versions', '{"schemaText":"x"}', 422, 42201, /"schema" field/],
      ['POST', '/subjects/ping-value/versions', '[1,2]', 422, 42201, /JSON object/],
      [
        'POST',
        '/subjects/ping-value/versions',
        JSON.stringify({ schema: SCHEMA, schemaType: 'PROTOBUF' }),
        422,
        42201,
        /AVRO/,
      ],
      ['GET', '/subjects/missing/versions', undefined, 404, 40401, /Subject 'missing' not found/],
      ['GET', '/subjects/missing/versions/latest', undefined, 404, 40401, /not found/],
      ['GET', '/subjects/ping-value/versions/7', undefined, 404, 40402, /Version 7 not found/],
      ['GET', '/subjects/ping-value/versions/first', undefined, 422, 42202, /not a valid version/],
      ['GET', '/schemas/ids/4242', undefined, 404, 40403, /Schema 4242 not found/],
      ['GET', '/schemas/ids/abc', undefined, 404, 40403, /positive integers/],
      [
        'POST',
        '/subjects/ping-value',
        JSON.stringify({ schema: SCHEMA.replace('Ping', 'Pong') }),
        404,
        40403,
        /not found/,
      ],
      ['PUT', '/config', '{"compatibility":"SIDEWAYS"}', 422, 42203, /Invalid compatibility level/],
      ['GET', '/config/ping-value', undefined, 404, 40408, /subject-level compatibility/],
      ['DELETE', '/subjects/ping-value?permanent=true', undefined, 404, 40405, /not deleted first/],
      ['GET', '/no/such/endpoint', undefined, 404, 404, /No such endpoint/],
      ['PATCH', '/subjects', '{}', 405, 405, /not allowed/],
      ['GET', '/subjects/%E0%A4%A', undefined, 400, 400, /percent-encoding/],
    ];
    for (const [method, path, body, status, errorCode, message] of cases) {
      const response = await call(method, path, body);
      expect({ method, path, status: response.status }).toEqual({ method, path, status });
      expect(response.contentType).toBe(JSON_TYPE);
      expect(response.body.error_code).toBe(errorCode);
      expect(response.body.message).toMatch(message);
    }

    const after = await call('GET', '/subjects');
    expect(after.status).toBe(200);
    expect(after.body).toEqual(['ping-value']);
  });

  it('keeps serving after a client drops a request halfway through its body', async () => {
    const { port } = new URL(registry.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /subjects/half-value/versions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"schema":',
    );
    socket.destroy();

    expect((await call('GET', '/subjects')).body).toEqual(['ping-value']);
  });

  it('accepts plain application/json and serves the schema by id and its raw text', async () => {
    const registered = await call(
      'POST',
      '/subjects/json-value/versions',
      JSON.stringify({ schema: SCHEMA }),
      'application/json',
    );
    expect(registered.status).toBe(200);
    const { id } = registered.body as { id: number };

    expect((await call('GET', `/schemas/ids/${id}`)).body).toEqual({ schema: SCHEMA });
    expect((await call('GET', `/schemas/ids/${id}/schema`)).body).toEqual(JSON.parse(SCHEMA));
    expect((await call('GET', `/schemas/ids/${id}/versions`)).body).toEqual([
      { subject: 'json-value', version: 1 },
      { subject: 'ping-value', version: 1 },
    ]);
    expect((await call('GET', '/config/json-value?defaultToGlobal=true')).body).toEqual({
      compatibilityLevel: 'BACKWARD',
    });
    const compatibility = await call(
      'POST',
      '/compatibility/subjects/json-value/versions/latest?verbose=true',
      JSON.stringify({
        schema: JSON.stringify({ type: 'record', name: 'Ping', fields: [{ name: 'n', type: 'string' }] }),
      }),
    );
    expect(compatibility.body.is_compatible).toBe(false);
    expect(compatibility.body.messages[0]).toMatch(/version 1/);
  });
});
