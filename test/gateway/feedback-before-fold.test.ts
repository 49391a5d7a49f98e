/**
 * A click sent through a new connection, to another gateway replica, before the topology has written the carousel's
 * record: the replica reads the record again until it is written, and counts the click then.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../../src/gateway/server.ts';
import { helloAs, startWorld, type World } from './support.ts';

let world: World;
let replica: GatewayHandle;
let shortWait: GatewayHandle;

beforeAll(async () => {
  // No topology yet: nothing writes the records of dealt carousels until a test starts it.
  world = await startWorld({}, { topology: false });
  replica = await world.extraGateway({ feedbackRecordWaitMs: 20_000 });
  shortWait = await world.extraGateway({ feedbackRecordWaitMs: 300 });
});
afterAll(async () => {
  await world?.close();
});

const urlOf = (gateway: GatewayHandle) => `ws://127.0.0.1:${gateway.port}/ws`;

describe('feedback on a carousel whose record is not written yet', () => {
  it('is refused after the wait when no record comes', async () => {
    const client = await helloAs(urlOf(shortWait), 'erin');
    client.send({ type: 'feedback', requestId: 'nobody-dealt-this', itemId: 'item-1', kind: 'click' });
    expect(await client.next((m) => m.type === 'feedback-ack')).toMatchObject({
      requestId: 'nobody-dealt-this',
      counted: false,
    });
    client.close();
  });

  it('counts once the topology writes it, on another replica, while the dealing connection is open', async () => {
    const dealing = await helloAs(world.wsUrl, 'dana');
    dealing.send({ type: 'carousel', requestId: 'before-fold', slots: 3 });
    const carousel = await dealing.next((m) => m.type === 'carousel');
    const [first, second] = (carousel.items as { itemId: string }[]).map((i) => i.itemId);

    const elsewhere = await helloAs(urlOf(replica), 'dana');
    elsewhere.send({ type: 'feedback', requestId: 'before-fold', itemId: first, kind: 'click' });
    // An item the carousel did not show is refused once the record is there, however long it waited for it.
    elsewhere.send({ type: 'feedback', requestId: 'before-fold', itemId: 'item-not-shown', kind: 'click' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await world.startTopology();

    const acks = [
      await elsewhere.next((m) => m.type === 'feedback-ack' && m.itemId === first, 25_000),
      await elsewhere.next((m) => m.type === 'feedback-ack' && m.itemId === 'item-not-shown', 25_000),
    ];
    expect(acks[0].counted).toBeUndefined();
    expect(acks[1].counted).toBe(false);

    // Claimed once in Redis: the same click through the dealing connection does not count again; another item does.
    dealing.send({ type: 'feedback', requestId: 'before-fold', itemId: first, kind: 'click' });
    dealing.send({ type: 'feedback', requestId: 'before-fold', itemId: second, kind: 'click' });
    const again = await dealing.next((m) => m.type === 'feedback-ack' && m.itemId === first);
    const other = await dealing.next((m) => m.type === 'feedback-ack' && m.itemId === second);
    expect(again.counted).toBe(false);
    expect(other.counted).toBeUndefined();
    dealing.close();
    elsewhere.close();
  }, 60_000);
});
