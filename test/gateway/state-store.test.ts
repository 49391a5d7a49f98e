import { describe, expect, it } from 'vitest';
import type { ItemInfo } from '../../src/decision/types.ts';
import { newSocketData, takeToken } from '../../src/gateway/connection.ts';
import { parseClientMessage } from '../../src/gateway/protocol.ts';
import { emptyItemCounters, parsePosteriorHash } from '../../src/state-cache/feed-format.ts';
import { type StateChange, StateStore } from '../../src/state-cache/state-store.ts';

const item = (itemId: string, available = true): ItemInfo => ({
  itemId,
  title: itemId,
  category: 'c',
  tags: [],
  available,
  createdAt: 0,
});

describe('state store', () => {
  it('sums arm counts over partitions and applying the same absolute values twice changes nothing', () => {
    const store = new StateStore({ halfLifeSeconds: 60 });
    store.setArm(0, 'a|*', 10, 2);
    store.setArm(1, 'a|*', 5, 1);
    store.setArm(1, 'a|*', 5, 1);
    store.setArm(0, 'a|mobile|gold', 3, 1);
    expect(store.arm('a', '*')).toEqual({ impressions: 15, clicks: 3 });
    expect(store.arm('a', 'mobile|gold')).toEqual({ impressions: 3, clicks: 1 });
    store.setArm(0, 'a|*', 12, 4);
    expect(store.arm('a', '*')).toEqual({ impressions: 17, clicks: 5 });
    expect(store.arm('missing', '*')).toEqual({ impressions: 0, clicks: 0 });
  });

  it('replaces a partition from a snapshot, dropping what the snapshot no longer holds', () => {
    const store = new StateStore({ halfLifeSeconds: 60 });
    store.setArm(0, 'a|*', 10, 2);
    store.setArm(0, 'b|*', 4, 0);
    store.setArm(1, 'a|*', 1, 1);
    store.replaceClickPartition(
      0,
      parsePosteriorHash({ 'imp|a|*': '20', 'clk|a|*': '3' }),
      new Map(),
      new Map(),
    );
    expect(store.arm('a', '*')).toEqual({ impressions: 21, clicks: 4 });
    expect(store.arm('b', '*')).toEqual({ impressions: 0, clicks: 0 });
  });

  it('computes the decayed CTR of counts decayed at different times in different partitions', () => {
    const now = Date.now();
    const store = new StateStore({ halfLifeSeconds: 60, referenceMs: now });
    store.setItemCounters(0, 'a', {
      ...emptyItemCounters(),
      imp: 4,
      clk: 1,
      dimp: 4,
      dclk: 2,
      dts: now - 60_000,
    });
    store.setItemCounters(1, 'a', { ...emptyItemCounters(), imp: 2, clk: 1, dimp: 2, dclk: 0, dts: now });
    const features = store.itemFeatures('a');
    expect(features).toMatchObject({ impressions: 6, clicks: 2 });
    // At `now`: partition 0 halves (2 imp, 1 clk), partition 1 as is (2 imp, 0 clk): 1 / 4.
    expect(features?.decayedCtr).toBeCloseTo(0.25, 12);
  });

  it('keeps only available items in the pool and reports the ones that left', () => {
    const store = new StateStore({ halfLifeSeconds: 60 });
    const changes: StateChange[] = [];
    store.onChange((change) => changes.push(change));
    store.replaceItemPartition(
      0,
      new Map([
        ['a', item('a')],
        ['b', item('b')],
      ]),
    );
    store.flushChanges();
    store.setItemRow(0, 'a', item('a', false));
    store.setItemRow(0, 'b', null);
    store.flushChanges();
    expect(store.items()).toEqual([]);
    expect([...changes[1].removed].sort()).toEqual(['a', 'b']);
    store.flushChanges();
    expect(changes).toHaveLength(2);
  });
});

describe('protocol and limits', () => {
  it('names the offending field of a refused message and echoes its requestId', () => {
    const parsed = parseClientMessage(JSON.stringify({ type: 'subscribe', requestId: 'q1', slots: 2.5 }));
    expect(parsed).toMatchObject({ ok: false, code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE', requestId: 'q1' });
    if (!parsed.ok) expect(parsed.message).toMatch(/^subscribe: slots: /);
    expect(parseClientMessage('[]')).toMatchObject({ ok: false, code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE' });
    expect(parseClientMessage(JSON.stringify({ type: 'ping', extra: 1 }))).toEqual({
      ok: true,
      message: { type: 'ping' },
    });
  });

  it('lets a connection burst one second of messages, then refills at the configured rate', () => {
    const data = newSocketData(1, 's', '127.0.0.1', 10);
    const t0 = data.refilledAt;
    let accepted = 0;
    for (let i = 0; i < 25; i++) if (takeToken(data, 10, t0)) accepted++;
    expect(accepted).toBe(10);
    expect(takeToken(data, 10, t0 + 50)).toBe(false);
    expect(takeToken(data, 10, t0 + 100)).toBe(true);
  });
});
