import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutateFrame } from '../../load-tests/reliability/fuzz-frames.ts';
import type { CarouselItemMessage } from '../../src/domain/protocol-messages.ts';
import { signClientToken, verifyClientToken } from '../../src/gateway/auth.ts';
import { MAX_SUBSCRIPTIONS } from '../../src/gateway/connection.ts';
import type { GatewayHandle } from '../../src/gateway/server.ts';
import { seeded } from '../streams/support/events.ts';
import { connectClient, type ServerMessage, startWorld, type TestClient, type World } from './support.ts';

const SECRET = 'hostile-secret-of-enough-length';
const ADMIN = 'hostile-admin-token';
let world: World;
let secured: GatewayHandle;

beforeAll(async () => {
  world = await startWorld({ maxMessagesPerSecond: 100_000 });
  secured = await world.extraGateway({
    authDisabled: false,
    authSecret: SECRET,
    adminToken: ADMIN,
    maxMessagesPerSecond: 100_000,
  });
});
afterAll(async () => {
  await world?.close();
});

async function hello(client: TestClient, userId: string, token?: string): Promise<void> {
  client.send({ type: 'hello', userId, ...(token ? { token } : {}) });
  expect(await client.next((m) => m.type === 'welcome' || m.type === 'error')).toMatchObject({
    type: 'welcome',
  });
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

describe('hostile client messages', () => {
  it('answers prototype names as message types with an error and keeps serving, with auth on and off', async () => {
    for (const port of [world.gateway.port, secured.port]) {
      const client = await connectClient(`ws://127.0.0.1:${port}/ws`);
      for (const type of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
        client.sendRaw(`{"type":"${type}","requestId":"r"}`);
        expect(await client.next()).toMatchObject({
          type: 'error',
          code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE',
        });
      }
      await hello(client, 'proto-user', signClientToken(SECRET, 'proto-user', 60));
      client.send({ type: 'carousel', requestId: 'after', slots: 3 });
      const carousel = await client.next((m) => m.type === 'carousel');
      expect(carousel.items).toHaveLength(3);
      client.close();
    }
  });

  it('refuses non-finite and out-of-range numbers with the documented range', async () => {
    const client = await connectClient(world.wsUrl);
    await hello(client, 'numbers');
    client.send({ type: 'carousel', requestId: 'shown', slots: 2 });
    const carousel = await client.next((m) => m.type === 'carousel');
    const itemId = (carousel.items as CarouselItemMessage[])[0].itemId;
    const frames = [
      `{"type":"feedback","requestId":"shown","itemId":"${itemId}","kind":"conversion","value":1.7e308}`,
      `{"type":"feedback","requestId":"shown","itemId":"${itemId}","kind":"conversion","value":1e400}`,
      `{"type":"feedback","requestId":"shown","itemId":"${itemId}","kind":"conversion","value":-1}`,
      `{"type":"feedback","requestId":"shown","itemId":"${itemId}","kind":"watch","watchTimeMs":1e300}`,
      `{"type":"carousel","requestId":"x","slots":1e999}`,
      `{"type":"carousel","requestId":"x","slots":2.5}`,
    ];
    for (const frame of frames) {
      client.sendRaw(frame);
      const reply = await client.next();
      expect(reply).toMatchObject({ type: 'error', code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE' });
      expect(String(reply.message)).toMatch(/must be|finite/);
    }
    client.send({ type: 'feedback', requestId: 'shown', itemId, kind: 'conversion', value: 1e9 });
    expect(await client.next()).toMatchObject({ type: 'feedback-ack' });
    client.close();
  });

  it('counts feedback only for an item the referenced carousel showed this user', async () => {
    const client = await connectClient(world.wsUrl);
    await hello(client, 'clicker');
    client.send({ type: 'carousel', requestId: 'real', slots: 2 });
    const carousel = await client.next((m) => m.type === 'carousel');
    const shown = (carousel.items as CarouselItemMessage[]).map((i) => i.itemId);
    const before = await metric(world.gateway.port, 'croupier_uncounted_feedback_total');
    client.send({ type: 'feedback', requestId: 'real', itemId: shown[0], kind: 'click' });
    const counted = await client.next();
    expect(counted).toMatchObject({ type: 'feedback-ack', itemId: shown[0] });
    expect(counted.counted).toBeUndefined();
    for (const [requestId, itemId] of [
      ['never-issued', shown[0]],
      ['real', 'item-nobody-showed'],
    ]) {
      client.send({ type: 'feedback', requestId, itemId, kind: 'click' });
      expect(await client.next()).toMatchObject({ type: 'feedback-ack', requestId, itemId, counted: false });
    }
    expect(await metric(world.gateway.port, 'croupier_uncounted_feedback_total')).toBe(before + 2);
    client.close();
  });

  it('counts a click once per item shown, however many are pipelined', async () => {
    const client = await connectClient(world.wsUrl);
    await hello(client, 'repeat-clicker');
    client.send({ type: 'carousel', requestId: 'once', slots: 2 });
    const carousel = await client.next((m) => m.type === 'carousel');
    const [first, second] = (carousel.items as CarouselItemMessage[]).map((i) => i.itemId);
    // 50 clicks on one shown item went in as 50 clicks on one impression.
    for (let i = 0; i < 50; i++)
      client.send({ type: 'feedback', requestId: 'once', itemId: first, kind: 'click' });
    client.send({ type: 'feedback', requestId: 'once', itemId: second, kind: 'click' });
    const acks = await Promise.all(
      Array.from({ length: 51 }, () => client.next((m) => m.type === 'feedback-ack')),
    );
    const countedOf = (itemId: string) =>
      acks.filter((a) => a.itemId === itemId && a.counted === undefined).length;
    expect([countedOf(first!), countedOf(second!)]).toEqual([1, 1]);
    client.close();
  });

  it('refuses ids with control, zero-width or lone surrogate characters', async () => {
    const client = await connectClient(world.wsUrl);
    for (const userId of ['a\u0000b', 'a\u200bb', 'a\ud800b', 'a\u202eb']) {
      client.send({ type: 'hello', userId });
      expect(await client.next()).toMatchObject({ type: 'error', code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE' });
    }
    await hello(client, 'zoë-日本');
    client.close();
  });

  it('holds the subscription limit against pipelined subscribes and counts subscriptions once each', async () => {
    const client = await connectClient(world.wsUrl);
    await hello(client, 'piper');
    const before = await metric(world.gateway.port, 'croupier_subscriptions');
    for (let i = 0; i < 150; i++) client.send({ type: 'subscribe', requestId: `s${i}`, slots: 3 });
    let carousels = 0;
    let refused = 0;
    while (carousels + refused < 150) {
      const m = await client.next();
      if (m.type === 'carousel') carousels++;
      else if (m.type === 'error') refused++;
    }
    expect(carousels).toBe(MAX_SUBSCRIPTIONS);
    expect(refused).toBe(150 - MAX_SUBSCRIPTIONS);
    expect(await metric(world.gateway.port, 'croupier_subscriptions')).toBe(before + MAX_SUBSCRIPTIONS);
    client.close();
    await client.closed;
  });

  it('keeps no subscription that an unsubscribe or a user switch pipelined behind it ended', async () => {
    const client = await connectClient(world.wsUrl);
    await hello(client, 'switcher-0');
    const before = await metric(world.gateway.port, 'croupier_subscriptions');
    // Each subscribe's deal is still in flight when the unsubscribe behind it runs.
    for (let i = 0; i < 3; i++) client.send({ type: 'subscribe', requestId: `u${i}`, slots: 3 });
    client.send({ type: 'unsubscribe' });
    client.send({ type: 'subscribe', requestId: 'one', slots: 3 });
    client.send({ type: 'unsubscribe', requestId: 'one' });
    let replies = 0;
    while (replies < 6) if ((await client.next()).type !== 'error') replies++;
    expect(await metric(world.gateway.port, 'croupier_subscriptions')).toBe(before);
    // A hello as another user ends the previous user's subscriptions, pending ones included, so the limit holds.
    for (let i = 0; i < 40; i++) {
      client.send({ type: 'subscribe', requestId: `w${i}`, slots: 3 });
      client.send({ type: 'hello', userId: `switcher-${(i % 2) + 1}` });
    }
    let answered = 0;
    while (answered < 80) {
      const m = await client.next();
      if (m.type === 'carousel' || m.type === 'error' || m.type === 'welcome') answered++;
    }
    const held = (await metric(world.gateway.port, 'croupier_subscriptions')) - before;
    expect(held).toBeLessThanOrEqual(MAX_SUBSCRIPTIONS);
    client.send({ type: 'unsubscribe' });
    await client.next((m) => m.type === 'unsubscribed');
    expect(await metric(world.gateway.port, 'croupier_subscriptions')).toBe(before);
    client.close();
    await client.closed;
  });

  it('lists user ids only to the admin when auth is on', async () => {
    const url = `http://127.0.0.1:${secured.port}/api/users`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(ok.status).toBe(200);
    expect(Array.isArray(((await ok.json()) as { users: unknown }).users)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${world.gateway.port}/api/users`)).status).toBe(200);
  });

  it('refuses a token whose signature has junk appended', () => {
    const token = signClientToken(SECRET, 'ann', 60);
    expect(verifyClientToken(SECRET, token)).toEqual({ userId: 'ann' });
    for (const junk of ['=', '!!', '==', 'A', '.']) {
      expect(() => verifyClientToken(SECRET, `${token}${junk}`)).toThrow(/signature|malformed/);
    }
  });
});

describe('floods', () => {
  it('answers messages over the rate once a second and closes a flooding connection, while others keep getting carousels', async () => {
    const limited = await world.extraGateway({ maxMessagesPerSecond: 50 });
    const url = `ws://127.0.0.1:${limited.port}/ws`;
    const other = await connectClient(url);
    await hello(other, 'steady');
    const flooder = await connectClient(url);
    await hello(flooder, 'flooder');
    const received: ServerMessage[] = [];
    flooder.socket.on('message', (data) => received.push(JSON.parse(String(data)) as ServerMessage));
    const frames = ['{"type":"ping"}', '{"type":"carousel","requestId":"f","slots":100}'];
    // The other client's requests go out between the flood's chunks, while it is still arriving.
    for (let chunk = 0; chunk < 5; chunk++) {
      for (let i = 0; i < 4000; i++) flooder.sendRaw(frames[i % 2]);
      other.send({ type: 'carousel', requestId: `during-${chunk}`, slots: 4 });
    }
    for (let chunk = 0; chunk < 5; chunk++) {
      const carousel = await other.next((m) => m.type === 'carousel' && m.requestId === `during-${chunk}`);
      expect(carousel.items).toHaveLength(4);
    }
    expect((await flooder.closed).code).toBe(1008);
    const errors = received.filter((m) => m.code === 'CROUPIER_ERR_GATEWAY_RATE_LIMITED');
    // One answer for the first message over the rate, one for the close; the rest were dropped unanswered.
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeLessThanOrEqual(4);
    expect(String(errors.at(-1)?.message)).toMatch(/closing this connection/);
    expect(received.length).toBeLessThan(200);
    other.send({ type: 'carousel', requestId: 'after', slots: 4 });
    expect((await other.next((m) => m.type === 'carousel')).items).toHaveLength(4);
    other.close();
    await limited.close();
  });
});

describe('fuzzed frames', () => {
  it('survives 20,000 mutated frames (seeded) and still deals correct carousels', async () => {
    const random = seeded(20261205);
    let client = await connectClient(world.wsUrl);
    let pings = 0;
    for (let batch = 0; batch < 40; batch++) {
      for (let i = 0; i < 500; i++) client.sendRaw(mutateFrame(random));
      client.send({ type: 'ping' });
      pings++;
      const pong = await client.next((m) => m.type === 'pong', 20_000).catch(() => null);
      if (pong === null) {
        // The server may close a connection on purpose (a frame it must refuse); the next batch reconnects.
        client.socket.terminate();
        client = await connectClient(world.wsUrl);
      }
    }
    client.close();
    expect(pings).toBe(40);
    expect(await metric(world.gateway.port, 'croupier_handler_errors_total')).toBe(0);

    const fresh = await connectClient(world.wsUrl);
    await hello(fresh, 'after-fuzz');
    fresh.send({ type: 'carousel', requestId: 'ok', slots: 5 });
    const carousel = await fresh.next((m) => m.type === 'carousel');
    const items = carousel.items as CarouselItemMessage[];
    expect(items.map((i) => i.slot)).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(items.map((i) => i.itemId)).size).toBe(5);
    for (const item of items) expect(item.propensity).toBeGreaterThan(0);
    fresh.close();
  }, 240_000);
});
