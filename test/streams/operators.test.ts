import { concat, defer, map, Observable, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { CroupierError } from '../../src/errors/index.ts';
import { concatPerKey } from '../../streams/operators/concat-per-key.ts';
import { decodeRecords } from '../../streams/operators/decode-records.ts';
import { produceDeadLetters } from '../../streams/operators/produce-dead-letters.ts';
import { retryWithBackoff } from '../../streams/operators/retry-with-backoff.ts';
import { splitBatch } from '../../streams/operators/split-batch.ts';
import { validateRecords } from '../../streams/operators/validate-records.ts';
import type { PartitionChunk } from '../../streams/records.ts';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('concatPerKey', () => {
  it('runs one inner Observable at a time per key, keys concurrently', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('a-b-c|', { a: 'x1', b: 'y1', c: 'x2' });
      const work = (v: string) => cold('---(r|)', { r: v });
      expectObservable(source.pipe(concatPerKey((v) => v[0], work))).toBe('---a-b-(c|)', {
        a: 'x1',
        b: 'y1',
        c: 'x2',
      });
    });
  });

  it('waits for the previous value of the same key', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('ab|', { a: 'x1', b: 'x2' });
      const work = (v: string) => cold('----(r|)', { r: v });
      expectObservable(source.pipe(concatPerKey((v) => v[0], work))).toBe('----a---(b|)', {
        a: 'x1',
        b: 'x2',
      });
    });
  });
});

describe('retryWithBackoff', () => {
  it('resubscribes after doubling waits capped at the maximum', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('#');
      const result = source.pipe(retryWithBackoff({ initialMs: 2, maxMs: 5, shouldRetry: (_e, n) => n < 5 }));
      // failures at 0, 2, 2+4, 6+5, 11+5; the fifth is not retried
      expectObservable(result).toBe('----------------#');
      expectSubscriptions(source.subscriptions).toBe([
        '(^!)',
        '--(^!)',
        '------(^!)',
        '-----------(^!)',
        '----------------(^!)',
      ]);
    });
  });

  it('passes values through and completes after a success', () => {
    scheduler().run(({ expectObservable }) => {
      let attempts = 0;
      const source = defer(() => (++attempts < 3 ? throwError(() => new Error('down')) : of('ok')));
      expectObservable(source.pipe(retryWithBackoff({ initialMs: 1, maxMs: 10 }))).toBe('---(o|)', {
        o: 'ok',
      });
    });
  });

  it('stops waiting when unsubscribed', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('#');
      expectObservable(source.pipe(retryWithBackoff({ initialMs: 3, maxMs: 3 })), '^----!').toBe('-');
      expectSubscriptions(source.subscriptions).toBe(['(^!)', '---(^!)']);
    });
  });
});

describe('splitBatch', () => {
  it('emits consecutive chunks of at most max items', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a-----b|', { a: [1, 2, 3, 4, 5], b: [] as number[] });
      expectObservable(source.pipe(splitBatch(2))).toBe('(xyz)--|', { x: [1, 2], y: [3, 4], z: [5] });
    });
  });
});

describe('decodeRecords and validateRecords', () => {
  const chunk = (role: PartitionChunk['role'], values: (Buffer | null)[]): PartitionChunk => ({
    tp: { topic: 't', partition: 0 },
    role,
    raw: values.map((value, offset) => ({ offset, key: null, value })),
  });
  const codec = {
    decode: async (buffer: Buffer) => {
      const text = buffer.toString();
      if (text === 'garbage') throw new CroupierError('CROUPIER_ERR_SERDE_MAGIC', 'no magic byte');
      if (text === 'offline') throw new CroupierError('CROUPIER_ERR_REGISTRY_UNAVAILABLE', 'registry down');
      return JSON.parse(text);
    },
  };
  const click = {
    eventId: 'e',
    requestId: 'r',
    userId: 'u',
    itemId: 'i',
    slot: null,
    segment: null,
    timestamp: 1,
  };
  const encoded = (schemaName: string, value: unknown) => Buffer.from(JSON.stringify({ schemaName, value }));

  it('keeps every offset: good records, dead records with codes, CDC tombstones', async () => {
    const out = await new Promise<unknown>((resolve, reject) =>
      of(
        chunk('clickstream', [
          encoded('Click', click),
          Buffer.from('garbage'),
          null,
          encoded('Click', { ...click, userId: 'a|b' }),
        ]),
      )
        .pipe(decodeRecords(codec), validateRecords())
        .subscribe({ next: resolve, error: reject }),
    );
    const { records, refused } = out as {
      records: { offset: number; kind: string }[];
      refused: { code: string }[];
    };
    expect(records.map((r) => [r.offset, r.kind])).toEqual([
      [0, 'event'],
      [1, 'dead'],
      [2, 'dead'],
      [3, 'dead'],
    ]);
    expect(refused.map((r) => r.code)).toEqual([
      'CROUPIER_ERR_SERDE_MAGIC',
      'CROUPIER_ERR_STREAM_EMPTY_RECORD',
      'CROUPIER_ERR_STREAM_BAD_ID',
    ]);
    const cdc = await new Promise<unknown>((resolve) =>
      of(chunk('items', [null]))
        .pipe(decodeRecords(codec), validateRecords())
        .subscribe(resolve),
    );
    expect((cdc as { records: unknown[] }).records).toEqual([{ offset: 0, kind: 'tombstone' }]);
  });

  it('errors (to be retried) when the registry is unavailable instead of dead-lettering', async () => {
    const error = await new Promise<unknown>((resolve) =>
      of(chunk('clickstream', [Buffer.from('offline')]))
        .pipe(decodeRecords(codec))
        .subscribe({ error: resolve }),
    );
    expect((error as CroupierError).code).toBe('CROUPIER_ERR_REGISTRY_UNAVAILABLE');
  });
});

describe('produceDeadLetters', () => {
  it('emits a chunk only after its dead letters are sent, and skips chunks without any', async () => {
    const log: string[] = [];
    const chunks = [
      { tp: { topic: 't', partition: 0 }, role: 'clickstream' as const, raw: [], refused: [] },
      {
        tp: { topic: 't', partition: 0 },
        role: 'clickstream' as const,
        raw: [],
        refused: [{ raw: { offset: 1, key: null, value: null }, code: 'C', message: 'm' }],
      },
    ];
    const send = async () => {
      await new Promise((r) => setTimeout(r, 5));
      log.push('sent');
    };
    await new Promise<void>((resolve) =>
      concat(of(chunks[0]), of(chunks[1]))
        .pipe(
          produceDeadLetters(send),
          map((c) => log.push(`chunk ${c.refused.length}`)),
        )
        .subscribe({ complete: resolve }),
    );
    expect(log).toEqual(['chunk 0', 'sent', 'chunk 1']);
  });

  it('reports a failed send as an error', async () => {
    const error = await new Promise<unknown>((resolve) =>
      new Observable<{
        tp: { topic: string; partition: number };
        role: 'clickstream';
        raw: [];
        refused: { raw: { offset: number; key: null; value: null }; code: string; message: string }[];
      }>((s) => {
        s.next({
          tp: { topic: 't', partition: 0 },
          role: 'clickstream',
          raw: [],
          refused: [{ raw: { offset: 0, key: null, value: null }, code: 'C', message: 'm' }],
        });
      })
        .pipe(produceDeadLetters(() => Promise.reject(new Error('broker down'))))
        .subscribe({ error: resolve }),
    );
    expect((error as Error).message).toBe('broker down');
  });
});
