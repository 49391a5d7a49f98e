/**
 * Feedback through a new connection on a carousel that a closed connection of the same gateway dealt (a page
 * reloaded): checked in memory, so it counts before the stream topology has folded the carousel. This world runs
 * no topology, so the request record in Redis never comes: only the gateway's own memory can count it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosedCarousels } from '../../src/gateway/closed-carousels.ts';
import type { ShownRequest } from '../../src/gateway/connection.ts';
import { helloAs as helloInWorld, startWorld, type World } from './support.ts';

let world: World;

beforeAll(async () => {
  world = await startWorld({});
});
afterAll(async () => {
  await world?.close();
});

const helloAs = (userId: string) => helloInWorld(world.wsUrl, userId);

describe('feedback after a reconnect to the gateway that dealt the carousel', () => {
  it('counts at once, once per kind and item shown, for the user it was dealt to only', async () => {
    const dealing = await helloAs('reloader');
    dealing.send({ type: 'carousel', requestId: 'page-1', slots: 3 });
    const carousel = await dealing.next((m) => m.type === 'carousel');
    const shown = (carousel.items as { itemId: string }[]).map((i) => i.itemId);
    dealing.send({ type: 'feedback', requestId: 'page-1', itemId: shown[0], kind: 'click' });
    expect((await dealing.next((m) => m.type === 'feedback-ack')).counted).toBeUndefined();
    dealing.close();
    await dealing.closed;

    const again = await helloAs('reloader');
    const click = async (requestId: string, itemId: string) => {
      again.send({ type: 'feedback', requestId, itemId, kind: 'click' });
      return again.next((m) => m.type === 'feedback-ack' && m.itemId === itemId && m.requestId === requestId);
    };
    // Before: counted: false, since no topology ever wrote the request's record.
    expect((await click('page-1', shown[1])).counted).toBeUndefined();
    expect(await click('page-1', shown[1])).toMatchObject({ counted: false });
    expect(await click('page-1', shown[0])).toMatchObject({ counted: false }); // taken on the dealing connection
    expect(await click('page-1', 'never-shown')).toMatchObject({ counted: false });
    expect(await click('page-2', shown[2])).toMatchObject({ counted: false });
    again.close();

    const other = await helloAs('someone-else');
    other.send({ type: 'feedback', requestId: 'page-1', itemId: shown[2], kind: 'click' });
    expect(await other.next((m) => m.type === 'feedback-ack')).toMatchObject({ counted: false });
    other.close();
  });
});

describe('the carousels of closed connections', () => {
  const shownOf = (itemId: string): ShownRequest => ({ segment: 's', slots: new Map([[itemId, 0]]) });

  it('are kept per user and request id, for keepMs and maxKept at most, the oldest dropped first', () => {
    let now = 0;
    const kept = new ClosedCarousels({ keepMs: 1_000, maxKept: 3, now: () => now });
    kept.keep(
      'ann',
      new Map([
        ['r1', shownOf('a')],
        ['r2', shownOf('b')],
      ]),
    );
    kept.keep('bob', new Map([['r1', shownOf('c')]]));
    expect(kept.get('ann', 'r1')?.slots.has('a')).toBe(true);
    expect(kept.get('bob', 'r1')?.slots.has('c')).toBe(true);
    expect(kept.get('bob', 'r2')).toBeUndefined();
    expect(kept.get('__proto__', 'r1')).toBeUndefined();
    now = 500;
    kept.keep('cy', new Map([['r9', shownOf('d')]]));
    expect(kept.size).toBe(3);
    expect(kept.get('ann', 'r1')).toBeUndefined(); // the oldest, past maxKept
    now = 1_200;
    expect(kept.get('ann', 'r2')).toBeUndefined(); // past keepMs
    expect(kept.get('cy', 'r9')?.slots.has('d')).toBe(true);
    kept.keep('dee', new Map());
    expect(kept.size).toBe(1);
  });
});
