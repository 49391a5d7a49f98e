import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClicker, examination, itemAppeal } from '../../load-tests/clicks.ts';
import { type EchoServerHandle, spawnEchoServer } from '../../load-tests/echo-server.ts';
import { carouselSource, closePool, openPool } from '../../load-tests/loadtest.ts';
import { replySeq, runStep } from '../../load-tests/open-loop.ts';
import { parseClientMessage } from '../../src/gateway/protocol.ts';
import { connectRaw, encodeClientFrame, FrameParser } from '../../src/ws-client/raw-client.ts';

describe('raw WebSocket client', () => {
  let echo: EchoServerHandle;
  beforeAll(async () => {
    echo = await spawnEchoServer({});
  });
  afterAll(async () => {
    await echo.close();
  });

  it('talks to a uWebSockets.js echo server: masked frames out, every size of length field back', async () => {
    const sent = ['{"type":"ping"}', 'é✓ unicode', 'x'.repeat(200), 'y'.repeat(70_000)];
    for (let i = 0; i < 500; i++) sent.push(`{"type":"carousel","requestId":"lt-${i}","slots":10}`);
    const got: string[] = [];
    let done: () => void = () => {};
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    const ws = await connectRaw({
      url: `ws://127.0.0.1:${echo.port}/`,
      onMessage: (message) => {
        got.push(message.toString());
        if (got.length === sent.length) done();
      },
    });
    for (const text of sent) ws.send(text);
    await all;
    expect(got).toEqual(sent);
    await ws.close();
  });

  it('parses frames split at any byte and finds the request id without decoding JSON', () => {
    const frames = Buffer.concat(
      ['a', 'b'.repeat(300), '{"requestId":"lt-42"}'].map((text) => {
        const payload = Buffer.from(text);
        const header =
          payload.length < 126 ? Buffer.from([0x81, payload.length]) : Buffer.from([0x81, 126, 1, 44]);
        return Buffer.concat([header, payload]);
      }),
    );
    const out: string[] = [];
    const parser = new FrameParser(
      (m) => out.push(m.toString()),
      () => {},
    );
    for (let i = 0; i < frames.length; i++) parser.push(frames.subarray(i, i + 1));
    expect(out).toEqual(['a', 'b'.repeat(300), '{"requestId":"lt-42"}']);
    expect(replySeq(Buffer.from(out[2]))).toBe(42);
    const masked = encodeClientFrame(Buffer.from('hello'), 1, 0x01020304);
    expect(masked[1]).toBe(0x80 | 5);
    expect(masked.subarray(2, 6)).toEqual(Buffer.from([1, 2, 3, 4]));
  });
});

describe('open-loop load generator', () => {
  // The server answers each message 5 ms late, and once, 1 s in, blocks its event loop for 600 ms
  // (long enough to stand out from the scheduling noise of a busy two-core machine).
  const stalling = { delayMs: 5, stallAfterMs: 1000, stallMs: 600 };

  it('shows the injected delay and the stall in the corrected percentiles, where a closed loop hides the stall', async () => {
    const open = await spawnEchoServer(stalling);
    const pool = await openPool(`ws://127.0.0.1:${open.port}/`, 10, 10, true);
    const step = await runStep(pool, carouselSource(10), { rate: 1000, durationMs: 3000, timeoutMs: 5000 });
    await closePool(pool);
    await open.close();

    const closed = await spawnEchoServer(stalling);
    const closedPool = await openPool(`ws://127.0.0.1:${closed.port}/`, 10, 10, true);
    const naive = await runStep(closedPool, carouselSource(10), {
      rate: 1000,
      durationMs: 3000,
      timeoutMs: 5000,
      mode: 'closed',
    });
    await closePool(closedPool);
    await closed.close();

    expect(step.sent).toBe(3000);
    expect(step.received).toBe(3000);
    // The delay: no reply can come sooner than 5 ms after it was due.
    expect(step.latency.p50).toBeGreaterThanOrEqual(4.5);
    // The stall: ~600 requests fell due while the server was stuck, ~20% of the step, so p99 sits near 600 ms.
    expect(step.latency.p99).toBeGreaterThan(300);
    expect(step.latency.p90).toBeGreaterThan(100);
    expect(step.latency.max).toBeGreaterThan(500);
    // A closed loop sends nothing while the server is stuck: the stall reaches only the ~10 requests in flight.
    expect(naive.uncorrected.max).toBeGreaterThan(500);
    expect(naive.uncorrected.p99).toBeLessThan(0.5 * step.latency.p99);
    expect(naive.uncorrected.p50).toBeGreaterThanOrEqual(4.5);
  });
});

describe('users who click', () => {
  const carousel = (requestId: string, ids: string[]) =>
    Buffer.from(
      JSON.stringify({
        type: 'carousel',
        requestId,
        items: ids.map((itemId, slot) => ({ itemId, slot, score: 0.1, propensity: 0.5 })),
        policy: 'thompson',
      }),
    );

  it('click each shown item by its appeal and slot, seeded, with feedback the gateway accepts', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `item-${i}`);
    const appeals = ids.map(itemAppeal);
    expect(Math.min(...appeals)).toBeGreaterThanOrEqual(0.02);
    expect(Math.max(...appeals)).toBeLessThanOrEqual(0.3);
    expect(Math.max(...appeals) - Math.min(...appeals)).toBeGreaterThan(0.2);
    const a = createClicker(3);
    const b = createClicker(3);
    const shown = ids.slice(0, 10);
    const perSlot = new Array(10).fill(0);
    for (let i = 0; i < 4000; i++) {
      const reply = carousel(`lt-${i}`, shown);
      const clicks = a.clicksOn(reply);
      expect(b.clicksOn(reply)).toEqual(clicks);
      for (const text of clicks) {
        const message = parseClientMessage(text);
        expect(message.ok).toBe(true);
        const click = JSON.parse(text) as { requestId: string; itemId: string; kind: string };
        expect(click.requestId).toBe(`lt-${i}`);
        expect(click.kind).toBe('click');
        perSlot[shown.indexOf(click.itemId)]++;
      }
    }
    // Each slot's click rate is its item's appeal times the slot's examination, within 4 standard errors.
    for (let slot = 0; slot < 10; slot++) {
      const p = itemAppeal(shown[slot]) * examination(slot);
      expect(Math.abs(perSlot[slot] / 4000 - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / 4000) + 1e-9);
    }
    expect(a.clicks).toBe(perSlot.reduce((s, n) => s + n, 0));
    // Only carousels are clicked: errors, acknowledgements and broken text are not.
    expect(a.clicksOn(Buffer.from('{"type":"error","requestId":"lt-1"}'))).toEqual([]);
    expect(a.clicksOn(Buffer.from('{"type":"carousel","requestId":"lt-1","items":[{"itemId":'))).toEqual([]);
  });
});
