import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, eventually, type ServerMessage, startWorld, type World } from './support.ts';

let world: World;

beforeAll(async () => {
  world = await startWorld({}, { topology: true });
});
afterAll(async () => {
  await world?.close();
});

async function helloAs(userId: string) {
  const client = await connectClient(world.wsUrl);
  client.send({ type: 'hello', userId });
  await client.next((m) => m.type === 'welcome');
  return client;
}

async function feedback(userId: string, requestId: string, itemId: string): Promise<ServerMessage> {
  const client = await helloAs(userId);
  client.send({ type: 'feedback', requestId, itemId, kind: 'click' });
  const ack = await client.next((m) => m.type === 'feedback-ack' || m.type === 'error');
  client.close();
  return ack;
}

describe('feedback on a carousel another connection dealt', () => {
  it('counts it when the logged impressions show the item to this user, and only then', async () => {
    const first = await helloAs('returning');
    first.send({ type: 'carousel', requestId: 'before-reload', slots: 3 });
    const carousel = await first.next((m) => m.type === 'carousel');
    const shown = (carousel.items as { itemId: string }[]).map((i) => i.itemId);
    first.close();
    await first.closed;

    // The topology folds the impressions into Redis; until then a new connection cannot know the carousel.
    const ack = await eventually(async () => {
      const reply = await feedback('returning', 'before-reload', shown[1]);
      return reply.counted === undefined ? reply : undefined;
    }, 20_000);
    expect(ack).toMatchObject({ type: 'feedback-ack', requestId: 'before-reload', itemId: shown[1] });

    const notShown = ['item-nobody-showed', ...Array.from({ length: 12 }, (_, i) => `i${i}`)].find(
      (id) => !shown.includes(id),
    )!;
    expect(await feedback('returning', 'before-reload', notShown)).toMatchObject({ counted: false });
    expect(await feedback('someone-else', 'before-reload', shown[1])).toMatchObject({ counted: false });
    expect(await feedback('returning', 'never-issued', shown[1])).toMatchObject({ counted: false });

    // Clicks pipelined faster than the check against the logged impressions: one of them counts.
    const again = await helloAs('returning');
    for (let i = 0; i < 20; i++) {
      again.send({ type: 'feedback', requestId: 'before-reload', itemId: shown[2], kind: 'click' });
    }
    const acks = await Promise.all(
      Array.from({ length: 20 }, () => again.next((m) => m.type === 'feedback-ack')),
    );
    expect(acks.filter((a) => a.counted === undefined)).toHaveLength(1);
    again.close();
  });

  it('counts a click once per item shown, whichever connection it comes through', async () => {
    const dealing = await helloAs('twice');
    dealing.send({ type: 'carousel', requestId: 'once-only', slots: 3 });
    const carousel = await dealing.next((m) => m.type === 'carousel');
    const shown = (carousel.items as { itemId: string }[]).map((i) => i.itemId);
    const clickOnDealing = async (itemId: string) => {
      dealing.send({ type: 'feedback', requestId: 'once-only', itemId, kind: 'click' });
      return dealing.next((m) => m.type === 'feedback-ack' && m.itemId === itemId);
    };
    expect((await clickOnDealing(shown[0])).counted).toBeUndefined();
    // Once the logged impressions show the carousel, a new connection's click on another item counts.
    await eventually(async () => {
      const reply = await feedback('twice', 'once-only', shown[1]);
      return reply.counted === undefined ? reply : undefined;
    }, 20_000);
    // Neither click counts again: not after a reconnect, not back on the dealing connection.
    expect(await feedback('twice', 'once-only', shown[0])).toMatchObject({ counted: false });
    expect(await feedback('twice', 'once-only', shown[1])).toMatchObject({ counted: false });
    expect(await clickOnDealing(shown[1])).toMatchObject({ counted: false });
    // Saying hello as another user and back does not either.
    dealing.send({ type: 'hello', userId: 'someone-else' });
    await dealing.next((m) => m.type === 'welcome');
    dealing.send({ type: 'hello', userId: 'twice' });
    await dealing.next((m) => m.type === 'welcome');
    dealing.send({ type: 'feedback', requestId: 'once-only', itemId: shown[0], kind: 'click' });
    expect(await dealing.next((m) => m.type === 'feedback-ack')).toMatchObject({ counted: false });
    // The third item was never clicked: it counts, once.
    expect((await feedback('twice', 'once-only', shown[2])).counted).toBeUndefined();
    expect(await feedback('twice', 'once-only', shown[2])).toMatchObject({ counted: false });
    dealing.close();
  });
});
