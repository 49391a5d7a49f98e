/**
 * A CDC change is applied only when its source position is newer than the one its key holds: what a source
 * re-sends after a crash (the same changes again, at later Kafka offsets) leaves the rows, the change feed and
 * deleted keys as they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionKey } from '../../src/state/layout/index.ts';
import { createStateWriter, type StateWriter } from '../../src/state/writer/index.ts';
import { applyPartitionBatch } from '../../streams/apply.ts';
import { foldItemChanges } from '../../streams/fold/cdc.ts';
import type { PartitionRecord } from '../../streams/fold/partition-batch.ts';
import { sourcePosition } from '../../streams/fold/source-position.ts';
import type { ItemChange, ItemRow } from '../../streams/schemas/index.ts';
import { validateRecord } from '../../streams/validate/events.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

const fold = { halfLifeMs: 3_600_000, recentClicks: 3 };
const cdc = { topic: 'cdc.items', partition: 0 };

function row(itemId: string, title: string): ItemRow {
  return { itemId, title, category: 'c', tags: [], available: true, createdAt: 5 };
}

/** A change committed at `commitLsn` (a snapshot read: `lsn` and `commitLsn` are the snapshot's LSN). */
function change(
  op: 'r' | 'c' | 'u' | 'd' | 't',
  itemId: string,
  title: string,
  lsn: number | null,
  commitLsn: number | null = lsn,
): ItemChange {
  const r = row(itemId, title);
  return {
    op,
    before: op === 'd' ? r : null,
    after: op === 'd' || op === 't' ? null : r,
    ts_ms: 1,
    source: { connector: 'postgresql', db: 'shop', table: 'items', ts_ms: 1, lsn, txId: 7, commitLsn },
  };
}

function writer(prefix: string): StateWriter {
  return createStateWriter({
    redis: redis.client,
    keyPrefix: prefix,
    groupId: 'g',
    changeFeedMaxLen: 1000,
    recentClicks: 3,
    halfLifeMs: 3_600_000,
    requestTtlSeconds: 3600,
  });
}

let nextOffset = 0;
async function apply(s: StateWriter, changes: ItemChange[], after: number): Promise<number> {
  const recs: PartitionRecord[] = changes.map((c) => ({
    offset: nextOffset++,
    kind: 'itemChange',
    change: c,
  }));
  await applyPartitionBatch(s, cdc, 'items', recs, after, fold);
  return nextOffset - 1;
}

async function rows(prefix: string): Promise<Record<string, string>> {
  const all = await redis.client.hgetall(partitionKey(prefix, cdc, 'items'));
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, (JSON.parse(v) as ItemRow).title]));
}

async function lastFeedData(prefix: string): Promise<unknown> {
  const entries = await redis.client.xrevrange(partitionKey(prefix, cdc, 'feed'), '+', '-', 'COUNT', 1);
  const fields = entries[0]?.[1] ?? [];
  return JSON.parse(fields[fields.indexOf('d') + 1] as string);
}

describe('source position of a change', () => {
  it('orders by commit first, then by the change within its transaction; a snapshot read before both', () => {
    const snapshot = sourcePosition(change('r', 'a', 'x', 600))!;
    // Written before the snapshot's LSN, committed at it: not in the snapshot, streamed after it.
    const earlyChangeCommittedAtSnapshot = sourcePosition(change('u', 'a', 'x', 400, 600))!;
    const sameTxLater = sourcePosition(change('u', 'a', 'x', 450, 600))!;
    const laterTx = sourcePosition(change('u', 'a', 'x', 610, 700))!;
    expect(snapshot < earlyChangeCommittedAtSnapshot).toBe(true);
    expect(earlyChangeCommittedAtSnapshot < sameTxLater).toBe(true);
    expect(sameTxLater < laterTx).toBe(true);
    expect(sourcePosition(change('u', 'a', 'x', 700, null))).toBeNull();
    // LSNs past 32 bits keep their order.
    expect(sourcePosition(change('u', 'a', 'x', 2 ** 40, 2 ** 40))! > laterTx).toBe(true);
  });

  it('a batch keeps the newest change of a key, whatever its offset order', () => {
    const delta = foldItemChanges([change('u', 'a', 'new', 900), change('u', 'a', 'old', 800)]);
    expect(delta.rows.get('a')).toContain('"new"');
    expect(delta.positions?.get('a')).toBe(sourcePosition(change('u', 'a', 'new', 900)));
  });
});

describe('applying re-sent CDC changes', () => {
  it('skips changes older than the key holds: rows, feed and deleted keys stay as they were', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    let stored = await apply(
      s,
      [
        change('r', 'a', 'a0', 100, null),
        change('r', 'b', 'b0', 100, null),
        change('r', 'c', 'c0', 100, null),
      ],
      -1,
    );
    stored = await apply(s, [change('u', 'a', 'a1', 150, 160), change('d', 'b', 'b0', 170, 180)], stored);
    stored = await apply(s, [change('u', 'a', 'a2', 190, 200), change('u', 'c', 'c1', 210, 220)], stored);
    expect(await rows(prefix)).toEqual({ a: 'a2', c: 'c1' });

    // The source crashed before its acknowledgement of commits 160..220 reached PostgreSQL: all re-sent.
    stored = await apply(s, [change('u', 'a', 'a1', 150, 160), change('d', 'b', 'b0', 170, 180)], stored);
    expect(await rows(prefix)).toEqual({ a: 'a2', c: 'c1' });
    expect(await lastFeedData(prefix)).toEqual({ items: {} });

    // A re-sent snapshot read of a deleted key does not bring it back; a newer change in the same batch applies.
    stored = await apply(s, [change('r', 'b', 'b0', 100), change('u', 'c', 'c2', 230, 240)], stored);
    expect(await rows(prefix)).toEqual({ a: 'a2', c: 'c2' });
    expect(await lastFeedData(prefix)).toEqual({ items: { c: row('c', 'c2') } });

    // A key deleted and inserted again later is a newer change: applied.
    stored = await apply(s, [change('c', 'b', 'b1', 250, 260)], stored);
    expect(await rows(prefix)).toEqual({ a: 'a2', b: 'b1', c: 'c2' });
    const stats = await redis.client.hgetall(partitionKey(prefix, cdc, 'stats'));
    expect(stats.events).toBe('12');
  });

  it('applies changes without a commit LSN (the simulator, older sources) as they come', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    let stored = await apply(s, [change('c', 'a', 'a1', 500, 500)], -1);
    stored = await apply(s, [change('u', 'a', 'plain', 10, null)], stored);
    expect(await rows(prefix)).toEqual({ a: 'plain' });
  });

  it('a truncate removes every row older than it, once, and the feed says so; what follows it applies', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const truncate = (lsn: number | null, commitLsn: number | null = lsn) =>
      change('t', '', '', lsn, commitLsn);
    let stored = await apply(
      s,
      [
        change('r', 'a', 'a0', 100, null),
        change('r', 'b', 'b0', 100, null),
        change('r', 'c', 'c0', 100, null),
      ],
      -1,
    );
    stored = await apply(s, [change('d', 'c', 'c0', 110, 120)], stored);
    // Before the truncate in its batch: dropped (the truncate removes it); after it: applied.
    stored = await apply(
      s,
      [change('u', 'a', 'a1', 130, 140), truncate(150, 160), change('c', 'd', 'd0', 170, 180)],
      stored,
    );
    expect(await rows(prefix)).toEqual({ d: 'd0' });
    expect(await lastFeedData(prefix)).toEqual({ items: { a: null, b: null, d: row('d', 'd0') } });
    stored = await apply(s, [change('c', 'e', 'e0', 190, 200)], stored);

    // The source re-sends from before the truncate: the old rows stay gone, the newer ones stay.
    stored = await apply(
      s,
      [change('u', 'a', 'a1', 130, 140), truncate(150, 160), change('c', 'd', 'd0', 170, 180)],
      stored,
    );
    expect(await rows(prefix)).toEqual({ d: 'd0', e: 'e0' });
    expect(await lastFeedData(prefix)).toEqual({ items: {} });
    stored = await apply(s, [change('r', 'b', 'b0', 100)], stored);
    expect(await rows(prefix)).toEqual({ d: 'd0', e: 'e0' });
    // A change older than the truncate of a key the partition never held (a second source's older snapshot):
    // stale too, since the truncate removed every row older than it.
    stored = await apply(s, [change('r', 'z', 'z0', 100), change('c', 'y', 'y0', 140, 150)], stored);
    expect(await rows(prefix)).toEqual({ d: 'd0', e: 'e0' });
    // A row without a position (applied as it comes) is not older than a truncate the partition applied before:
    // the truncate re-sent once more leaves it.
    stored = await apply(s, [change('c', 'f', 'f0', 300, null)], stored);
    stored = await apply(s, [truncate(150, 160)], stored);
    expect(await rows(prefix)).toEqual({ d: 'd0', e: 'e0', f: 'f0' });

    // A truncate without a position (a source that gives none) removes every row.
    stored = await apply(s, [truncate(null)], stored);
    expect(await rows(prefix)).toEqual({});
    const stats = await redis.client.hgetall(partitionKey(prefix, cdc, 'stats'));
    expect(stats.truncates).toBe('4');
  });

  it("a snapshot's truncate resets the partition, whatever the positions held", async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const snapshotTruncate = (commitLsn: number): ItemChange => ({
      ...change('t', '', '', commitLsn, commitLsn),
      source: {
        connector: 'postgresql',
        db: 'shop',
        table: 'items',
        ts_ms: 1,
        lsn: commitLsn,
        txId: null,
        commitLsn,
      },
    });
    let stored = await apply(
      s,
      [snapshotTruncate(99), change('r', 'a', 'a0', 100), change('r', 'b', 'b0', 100)],
      -1,
    );
    // Changes at LSNs the database later loses (restored to an earlier point, or a replica promoted without them).
    stored = await apply(s, [change('u', 'a', 'a1', 980, 990), change('c', 'k', 'k0', 985, 990)], stored);
    // The new snapshot, at 955 on the restored database: its rows only, and the changes after it apply.
    stored = await apply(
      s,
      [snapshotTruncate(954), change('r', 'a', 'a0', 955), change('r', 'b', 'b0', 955)],
      stored,
    );
    stored = await apply(s, [change('u', 'a', 'a2', 960, 970)], stored);
    expect(await rows(prefix)).toEqual({ a: 'a2', b: 'b0' });
    // An older snapshot's truncate (a second source's, arriving late) changes nothing.
    stored = await apply(s, [snapshotTruncate(500), change('r', 'a', 'old', 501)], stored);
    expect(await rows(prefix)).toEqual({ a: 'a2', b: 'b0' });
  });

  it('a truncate names no row: one that carries a row is refused', () => {
    expect(validateRecord('items', 'ItemChange', change('t', '', '', 1))).toBeUndefined();
    expect(
      validateRecord('items', 'ItemChange', { ...change('t', '', '', 1), after: row('a', 'x') })?.code,
    ).toBe('CROUPIER_ERR_STREAM_CDC_INVALID');
  });
});
