import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELSEWHERE_WAIT_MS } from '../../src/gateway/handlers/feedback.ts';
import { clickClaimKey, feedbackClaimField, userKey } from '../../src/state/layout/index.ts';
import { keyPartitioner } from '../../src/state/live-reader/user-reads.ts';
import {
  eventually,
  helloAs as helloInWorld,
  PARTITIONS,
  type ServerMessage,
  startWorld,
  TOPICS,
  type World,
} from './support.ts';

let world: World;

beforeAll(async () => {
  world = await startWorld({}, { topology: true });
});
afterAll(async () => {
  await world?.close();
});

const helloAs = (userId: string) => helloInWorld(world.wsUrl, userId);

/** Two user ids that Kafka's default partitioner puts in one clickstream partition. */
function usersOfOnePartition(): [string, string] {
  const partitionOf = keyPartitioner(TOPICS.clickstream, PARTITIONS.clickstream);
  const first = 'alice';
  for (let i = 0; ; i++) {
    const other = `bob${i}`;
    if (partitionOf(other) === partitionOf(first)) return [first, other];
  }
}

async function deal(userId: string, requestId: string): Promise<string[]> {
  const client = await helloAs(userId);
  client.send({ type: 'carousel', requestId, slots: 3 });
  const carousel = await client.next((m) => m.type === 'carousel');
  client.close();
  await client.closed;
  return (carousel.items as { itemId: string }[]).map((i) => i.itemId);
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

  it("counts a user's click after a reconnect when another user of the partition used the same request id", async () => {
    const [alice, bob] = usersOfOnePartition();
    const alicesItems = await deal(alice, 'page-same-id');
    const bobsItems = await deal(bob, 'page-same-id');
    // Once Bob's carousel (the later one) is folded, his click after a reconnect counts...
    await eventually(async () => {
      const reply = await feedback(bob, 'page-same-id', bobsItems[0]);
      return reply.counted === undefined ? reply : undefined;
    }, 20_000);
    // ... and so does Alice's: the request id is Bob's too, but her record is her own.
    expect((await feedback(alice, 'page-same-id', alicesItems[1])).counted).toBeUndefined();
    const onlyAlices = alicesItems.find((id) => !bobsItems.includes(id));
    if (onlyAlices !== undefined) {
      expect(await feedback(bob, 'page-same-id', onlyAlices)).toMatchObject({ counted: false });
    }
  });

  it('counts a conversion and a watch once per item shown, pipelined or through another connection', async () => {
    const user = 'converter';
    const client = await helloAs(user);
    client.send({ type: 'carousel', requestId: 'buy-once', slots: 3 });
    const carousel = await client.next((m) => m.type === 'carousel');
    const shown = (carousel.items as { itemId: string }[]).map((i) => i.itemId);
    // One impression became 50 conversions of 1e9 and 40 seven-day watches.
    const conversion = (itemId: string) =>
      ({ type: 'feedback', requestId: 'buy-once', itemId, kind: 'conversion', value: 1e9 }) as const;
    const watch = (itemId: string) =>
      ({ type: 'feedback', requestId: 'buy-once', itemId, kind: 'watch', watchTimeMs: 604_800_000 }) as const;
    for (let i = 0; i < 20; i++) {
      client.send(conversion(shown[0]));
      client.send(watch(shown[0]));
    }
    client.send({ type: 'feedback', requestId: 'buy-once', itemId: shown[0], kind: 'click' });
    const acks = await Promise.all(
      Array.from({ length: 41 }, () => client.next((m) => m.type === 'feedback-ack')),
    );
    expect(acks.filter((a) => a.counted === undefined)).toHaveLength(3);
    client.close();

    // Through a new connection once the logged impressions show the carousel: shown[0]'s are taken already,
    // shown[1]'s conversion counts, once.
    const send = async (message: ReturnType<typeof conversion> | ReturnType<typeof watch>) => {
      const other = await helloAs(user);
      other.send(message);
      const ack = await other.next((m) => m.type === 'feedback-ack');
      other.close();
      return ack;
    };
    await eventually(async () => {
      const reply = await send(conversion(shown[1]));
      return reply.counted === undefined ? reply : undefined;
    }, 20_000);
    expect(await send(conversion(shown[1]))).toMatchObject({ counted: false });
    expect(await send(conversion(shown[0]))).toMatchObject({ counted: false });
    expect(await send(watch(shown[0]))).toMatchObject({ counted: false });

    // Folded: two conversions of 1e9 and one week of watching, however many were sent.
    const totals = await eventually(async () => {
      for (let p = 0; p < PARTITIONS.clickstream; p++) {
        const hash = await world.redis.client.hgetall(
          userKey(world.prefix, { topic: TOPICS.clickstream, partition: p }, user),
        );
        if (hash.conv === '2') return hash;
      }
      return undefined;
    }, 20_000);
    expect([totals.conv, Number(totals.convValue), totals.watchMs]).toEqual(['2', 2e9, '604800000']);
  });
});

/** `croupier_feedback_claims_kept` of the gateway's /metrics. */
async function claimsKept(): Promise<number> {
  const text = await (await fetch(`${world.httpUrl}/metrics`)).text();
  return Number(/^croupier_feedback_claims_kept (\S+)$/m.exec(text)?.[1]);
}

function clickstreamPartitionOf(userId: string) {
  return {
    topic: TOPICS.clickstream,
    partition: keyPartitioner(TOPICS.clickstream, PARTITIONS.clickstream)(userId),
  };
}

/**
 * A carousel dealt on a connection left open, once the topology has folded its impressions (so a new connection
 * can check a click against them); its first item.
 */
async function dealFolded(userId: string, requestId: string) {
  const dealing = await helloAs(userId);
  dealing.send({ type: 'carousel', requestId, slots: 3 });
  const carousel = await dealing.next((m) => m.type === 'carousel');
  const itemId = (carousel.items as { itemId: string }[])[0].itemId;
  await eventually(
    async () => ((await world.cache.wasShown(userId, requestId, itemId)) ? true : undefined),
    20_000,
  );
  return { dealing, itemId };
}

/** The user's click count in Redis, once the topology has folded a click. */
async function foldedClicks(userId: string): Promise<string> {
  const hash = await eventually(async () => {
    const found = await world.redis.client.hgetall(
      userKey(world.prefix, clickstreamPartitionOf(userId), userId),
    );
    return found.clk === undefined ? undefined : found;
  }, 20_000);
  return hash.clk;
}

/** Redis refuses every write (as with its disk full) until `refuseWrites(false)`. */
async function refuseWrites(refuse: boolean): Promise<void> {
  await world.redis.client.config('SET', 'min-replicas-to-write', refuse ? '1' : '0');
}

describe('a click whose claim Redis refused', () => {
  it('counts once: the claim is written when Redis takes writes again, and the click sent again does not count', async () => {
    const userId = 'claim-refused';
    const requestId = 'page-while-refused';
    const tp = clickstreamPartitionOf(userId);
    const { dealing, itemId } = await dealFolded(userId, requestId);

    await refuseWrites(true);
    try {
      await expect(world.redis.client.set(`${world.prefix}probe`, '1')).rejects.toThrow(/NOREPLICAS/);
      dealing.send({ type: 'feedback', requestId, itemId, kind: 'click' });
      // Counted on its connection, as when Redis does not answer.
      expect((await dealing.next((m) => m.type === 'feedback-ack')).counted).toBeUndefined();
      dealing.close();
      await dealing.closed;
      // Its claim waits in the gateway, tried again while Redis refuses it.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await claimsKept()).toBe(1);
    } finally {
      await refuseWrites(false);
    }

    // The client sends the click again through a new connection (it never saw the acknowledgement, say).
    expect(await feedback(userId, requestId, itemId)).toMatchObject({ counted: false });
    // The claim is in Redis now, so another gateway would refuse it too.
    const claimKey = clickClaimKey(world.prefix, tp, requestId);
    const field = feedbackClaimField(userId, itemId, 'click');
    await eventually(
      async () => ((await world.redis.client.hexists(claimKey, field)) === 1 ? true : undefined),
      10_000,
    );
    expect(await feedback(userId, requestId, itemId)).toMatchObject({ counted: false });
    expect(await claimsKept()).toBe(0);
    // Folded once.
    expect(await foldedClicks(userId)).toBe('1');
  });
});

describe('feedback on a carousel of another connection while Redis does not answer', () => {
  it('is answered counted: false within ELSEWHERE_WAIT_MS, and counts once when sent again after Redis is back', async () => {
    const userId = 'redis-stopped';
    const requestId = 'page-before-stop';
    // The dealing connection stays open (another tab, say), so a new connection's click is checked in Redis.
    const { dealing, itemId } = await dealFolded(userId, requestId);

    // SIGSTOP: Redis keeps its connections and answers nothing, as a host that has gone away.
    process.kill(world.redis.server.pid, 'SIGSTOP');
    let reply: ServerMessage;
    try {
      const client = await helloAs(userId);
      client.send({ type: 'feedback', requestId, itemId, kind: 'click' });
      // Before the bound the check waited on Redis for as long as it was stopped: no answer at all.
      reply = await client.next((m) => m.type === 'feedback-ack', ELSEWHERE_WAIT_MS + 5_000);
      client.close();
    } finally {
      process.kill(world.redis.server.pid, 'SIGCONT');
    }
    expect(reply).toMatchObject({ type: 'feedback-ack', requestId, itemId, counted: false });

    // Its claim was never asked for, so the click sent again counts, once.
    const resent = await eventually(async () => {
      const ack = await feedback(userId, requestId, itemId);
      return ack.counted === undefined ? ack : undefined;
    }, 20_000);
    expect(resent).toMatchObject({ type: 'feedback-ack', requestId, itemId });
    expect(await feedback(userId, requestId, itemId)).toMatchObject({ counted: false });
    expect(await foldedClicks(userId)).toBe('1');
    dealing.close();
  });
});
