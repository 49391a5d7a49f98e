import { describe, expect, it } from 'vitest';
import {
  type Carousel,
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
      source: {
        connector: 'postgresql',
        db: 'shop',
        table: 'users',
        ts_ms: 4,
        lsn: null,
        txId: null,
        commitLsn: null,
      },
    };
    expect(schemas.UserChange.fromBuffer(schemas.UserChange.toBuffer(userDelete))).toEqual(userDelete);
  });

  it('round-trips a carousel with its items and their float32 feature rows byte for byte', () => {
    const carousel: Carousel = SAMPLE_EVENTS.Carousel;
    const bytes = schemas.Carousel.toBuffer(carousel);
    expect(schemas.Carousel.fromBuffer(bytes)).toEqual(carousel);
    expect(schemas.Carousel.toBuffer(schemas.Carousel.fromBuffer(bytes)).equals(bytes)).toBe(true);

    // A scored row is float32: every value comes back as the float32 the model saw, whatever its decimals.
    const row = Float32Array.from([0.1, 1 / 3, -2.5e-7, 17.25, 0]);
    const withRow: Carousel = {
      ...carousel,
      items: [{ ...carousel.items[0], features: Array.from(row) }],
    };
    const back = schemas.Carousel.fromBuffer(schemas.Carousel.toBuffer(withRow)) as Carousel;
    expect(Float32Array.from(back.items[0].features ?? [])).toEqual(row);

    // No shadow policy, no context, no rows: the nullable fields encode as null.
    const bare: Carousel = {
      ...carousel,
      experiment: null,
      variant: null,
      segment: null,
      context: null,
      shadowPolicy: null,
      featureSpecHash: null,
      items: carousel.items.map((item) => ({
        ...item,
        shadowSlot: null,
        shadowPropensity: null,
        features: null,
      })),
    };
    expect(schemas.Carousel.fromBuffer(schemas.Carousel.toBuffer(bare))).toEqual(bare);
  });

  it('refuses a carousel item without a slot or with a non-float feature value', () => {
    const carousel = SAMPLE_EVENTS.Carousel;
    const { slot: _omit, ...noSlot } = carousel.items[0];
    expect(schemas.Carousel.isValid(carousel)).toBe(true);
    expect(schemas.Carousel.isValid({ ...carousel, items: [noSlot] })).toBe(false);
    expect(
      schemas.Carousel.isValid({ ...carousel, items: [{ ...carousel.items[0], features: ['0.5'] }] }),
    ).toBe(false);
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
