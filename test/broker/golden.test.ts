/**
 * Golden bytes per codec version (test/fixtures/broker/apiNN-vM.json, made by generate.ts there): request
 * bytes as kafkajs 2.2.4 encodes them decode to the recorded value; the recorded response encodes to the
 * recorded bytes, and kafkajs decodes those bytes to what it decoded when the fixture was made.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALL_CODECS, findCodec } from '../../src/broker/apis/registry.ts';
import { ADVERTISED } from '../../src/broker/protocol/api-keys.ts';
import { Decoder } from '../../src/broker/protocol/decoder.ts';
import { Encoder } from '../../src/broker/protocol/encoder.ts';
import { kafkajsDecode, toJson } from '../fixtures/broker/generate.ts';

const DIR = fileURLToPath(new URL('../fixtures/broker/', import.meta.url));

interface Fixture {
  apiKey: number;
  version: number;
  request: { hex: string; decoded: unknown };
  response: { value: unknown; hex: string; kafkajs?: unknown };
}

function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$hex === 'string' && Object.keys(o).length === 1) return Buffer.from(o.$hex, 'hex');
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

const fixtures: Fixture[] = readdirSync(DIR)
  .filter((f) => /^api\d+-v\d+\.json$/.test(f))
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')));

describe('golden bytes per codec version', () => {
  it('there is a codec, and a fixture, for exactly every advertised version', () => {
    const advertised = ADVERTISED.flatMap((a) =>
      Array.from({ length: a.maxVersion - a.minVersion + 1 }, (_, i) => `${a.apiKey}/${a.minVersion + i}`),
    ).sort();
    expect(ALL_CODECS.map((c) => `${c.apiKey}/${c.version}`).sort()).toEqual(advertised);
    expect(fixtures.map((f) => `${f.apiKey}/${f.version}`).sort()).toEqual(advertised);
  });

  for (const f of fixtures) {
    it(`API ${f.apiKey} v${f.version}`, async () => {
      const codec = findCodec(f.apiKey, f.version)!;
      const d = new Decoder(Buffer.from(f.request.hex, 'hex'));
      expect(toJson(codec.decodeRequest(d))).toEqual(f.request.decoded);
      expect(d.remaining()).toBe(0);
      const e = new Encoder();
      codec.encodeResponse(e, revive(f.response.value));
      expect(e.toBuffer().toString('hex')).toBe(f.response.hex);
      if (f.response.kafkajs !== undefined) {
        const dir = JSON.parse(readFileSync(join(DIR, 'kafkajs-dirs.json'), 'utf8'))[f.apiKey] as string;
        expect(await kafkajsDecode(dir, f.version, Buffer.from(f.response.hex, 'hex'))).toEqual(
          f.response.kafkajs,
        );
      }
    });
  }
});
