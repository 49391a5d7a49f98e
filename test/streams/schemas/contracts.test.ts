import { describe, expect, it } from 'vitest';
import {
  type Click,
  type DeadLetter,
  type Impression,
  type ItemChange,
  loadSchemas,
  readSchemaText,
  SCHEMA_NAMES,
  type UserChange,
} from '../../../streams/schemas/index.ts';
import { SAMPLE_EVENTS } from '../../support/sample-events.ts';

const schemas = loadSchemas();

const impression: Impression = SAMPLE_EVENTS.Impression;

const itemChange: ItemChange = SAMPLE_EVENTS.ItemChange;

describe('event contracts', () => {
  it('gives every field of every schema a doc line', () => {
    for (const name of SCHEMA_NAMES) {
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) {
          for (const inner of node) walk(inner);
          return;
        }
        if (!node || typeof node !== 'object') return;
        const rec = node as { type?: unknown; fields?: { name: string; doc?: string; type: unknown }[] };
        if (rec.type === 'record') {
          for (const field of rec.fields ?? []) {
            expect(field.doc, `${name}.${field.name}`).toBeTruthy();
            walk(field.type);
          }
        } else if (rec.type && typeof rec.type === 'object') walk(rec.type);
      };
      walk(JSON.parse(readSchemaText(name)));
    }
  });

  it('round-trips an impression and a CDC change byte for byte', () => {
    const bytes = schemas.Impression.toBuffer(impression);
    expect(schemas.Impression.fromBuffer(bytes)).toEqual(impression);
    expect(schemas.Impression.toBuffer(schemas.Impression.fromBuffer(bytes)).equals(bytes)).toBe(true);
    expect(schemas.ItemChange.fromBuffer(schemas.ItemChange.toBuffer(itemChange))).toEqual(itemChange);
    const userDelete: UserChange = {
      before: { userId: 'u-1', segment: 'casual', country: 'FR', subscribed: false },
      after: null,
      op: 'd',
      ts_ms: 5,
      source: { connector: 'postgresql', db: 'shop', table: 'users', ts_ms: 4, lsn: null },
    };
    expect(schemas.UserChange.fromBuffer(schemas.UserChange.toBuffer(userDelete))).toEqual(userDelete);
  });

  it('keeps dead-letter bytes untouched', () => {
    const dlq: DeadLetter = {
      topic: 'clickstream',
      partition: 3,
      offset: 99,
      key: Buffer.from('u-1'),
      value: Buffer.from([0, 0, 0, 0, 9, 0xff]),
      errorCode: 'CROUPIER_ERR_STREAM_DECODE',
      errorMessage: 'unknown schema id 9',
      timestamp: 7,
    };
    const back = schemas.DeadLetter.fromBuffer(schemas.DeadLetter.toBuffer(dlq)) as DeadLetter;
    expect(back.value?.equals(dlq.value as Buffer)).toBe(true);
    expect(back.offset).toBe(99);
  });

  it('refuses a record with a missing required field or a wrong type', () => {
    const { eventId: _omit, ...noId } = impression;
    expect(schemas.Impression.isValid(noId)).toBe(false);
    const click: Click = {
      eventId: 'e',
      requestId: 'r',
      userId: 'u',
      itemId: 'i',
      slot: null,
      segment: null,
      timestamp: 1,
    };
    expect(schemas.Click.isValid(click)).toBe(true);
    expect(schemas.Click.isValid({ ...click, slot: 'first' })).toBe(false);
    expect(() => schemas.Watch.toBuffer({ ...click, watchTimeMs: 'long' })).toThrow();
  });
});
