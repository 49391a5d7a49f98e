/**
 * A request's device is the client's to say: each made-up one opened new arms in Redis (five posterior fields a
 * carousel) and in the gateway's cache. Devices outside `model.segmentDevices` count as `other`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectClient, startWorld, type World } from './support.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ maxMessagesPerSecond: 100_000 }, { topology: true });
});
afterAll(async () => {
  await world?.close();
});

/** `segment` → posterior fields (imp and clk) of that segment, over every partition. */
async function armsBySegment(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const key of await world.redis.client.keys(`${world.prefix}*:posterior`)) {
    for (const field of await world.redis.client.hkeys(key)) {
      const [, , ...segment] = field.split('|');
      const name = segment.length === 0 ? '*' : segment.join('|');
      out.set(name, (out.get(name) ?? 0) + 1);
    }
  }
  return out;
}

it('keeps the arms of listed devices apart and counts every other device as one', async () => {
  const client = await connectClient(world.wsUrl);
  client.send({ type: 'hello', userId: 'device-hopper' });
  await client.next((m) => m.type === 'welcome');
  const devices = ['tv', ...Array.from({ length: 60 }, (_, i) => `made-up-${i}`)];
  for (const [i, device] of devices.entries()) {
    client.send({ type: 'carousel', requestId: `r${i}`, slots: 5, context: { device } });
    await client.next((m) => m.type === 'carousel' && m.requestId === `r${i}`);
  }
  await expect
    .poll(async () => [...(await armsBySegment()).keys()].sort(), { timeout: 20_000 })
    .toEqual(['*', 'other|unknown', 'tv|unknown']);
  client.close();
}, 60_000);
