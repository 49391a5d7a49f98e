import { describe, expect, it } from 'vitest';
import { createEventCodec, type EventCodec, readSchemaId, writeHeader } from '../../src/kafka/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { partitionKey } from '../../src/state/layout/index.ts';
import { readUnregistered } from '../../streams/operators/unregistered-schema.ts';
import type { RawRecord } from '../../streams/records.ts';
import { CLICKSTREAM_SCHEMAS, type ClickstreamEvent, loadSchemas } from '../../streams/schemas/index.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import { compareEventsWithState } from './support/compare-state.ts';
import { generateClickstream } from './support/events.ts';
import {
  createTopics,
  testTopics,
  topologyConfig,
  useKafkaStackWithRedis,
  waitForOffsets,
} from './support/stack.ts';

const world = useKafkaStackWithRedis();

/** Deletes a subject as an operator would for good: soft first, then `?permanent=true`. */
async function deleteSubjectForGood(registryUrl: string, subject: string): Promise<void> {
  for (const query of ['', '?permanent=true']) {
    const response = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}${query}`, {
      method: 'DELETE',
    });
    expect(response.status).toBe(200);
  }
}

async function schemaIdStatus(registryUrl: string, id: number): Promise<number> {
  const response = await fetch(`${registryUrl}/schemas/ids/${id}`);
  await response.body?.cancel();
  return response.status;
}

/** Writes events to partition 0 as the gateway's event log does: keyed by user, the event's time as the record's. */
async function writeAsGateway(codec: EventCodec, topic: string, events: readonly ClickstreamEvent[]) {
  const messages = [];
  for (const e of events) {
    messages.push({
      key: e.event.userId,
      partition: 0,
      timestamp: String(e.event.timestamp),
      value: await codec.encode(topic, e.type, e.event as never),
    });
  }
  await world.stack.producer.send({ topic, acks: -1, messages });
}

describe('a live subject deleted permanently', () => {
  it('folds every event written with the lost schema ids, read by a topology that had never seen them', async () => {
    const prefix = world.redis.prefix();
    const topics = testTopics(`gone${Date.now()}`);
    await createTopics(world.stack.admin, topics, 1);
    const writer = createEventCodec({ registryUrl: world.stack.registry.url, schemas: loadSchemas() });
    const events = generateClickstream({ seed: 17, users: 6, items: 6, requests: 40, carouselShare: 0.5 });
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(CLICKSTREAM_SCHEMAS));
    const half = Math.floor(events.length / 2);
    await writeAsGateway(writer, topics.clickstream, events.slice(0, half));

    const lostIds = new Set<number>();
    for (const schemaName of CLICKSTREAM_SCHEMAS) {
      lostIds.add(await writer.register(topics.clickstream, schemaName));
      await deleteSubjectForGood(world.stack.registry.url, writer.subjectFor(topics.clickstream, schemaName));
    }
    for (const id of lostIds) expect(await schemaIdStatus(world.stack.registry.url, id)).toBe(404);

    // The writer has not noticed yet: the rest goes out with the lost ids too.
    await writeAsGateway(writer, topics.clickstream, events.slice(half));
    // A record with a lost id whose key is not its user's is no event the gateway wrote: still a dead letter.
    const click = events.find((e) => e.type === 'Click')!;
    await world.stack.producer.send({
      topic: topics.clickstream,
      acks: -1,
      messages: [
        {
          key: 'someone-else',
          partition: 0,
          timestamp: String(click.event.timestamp),
          value: await writer.encode(topics.clickstream, 'Click', click.event as never),
        },
      ],
    });

    const reader = createEventCodec({ registryUrl: world.stack.registry.url, schemas: loadSchemas() });
    const config = topologyConfig({ kafka: { topics }, redis: { keyPrefix: prefix } });
    const topology = await startStreamTopology({
      config,
      kafka: world.stack.kafka,
      codec: reader,
      redis: world.redis.client,
      logger: silentLogger(),
    });
    try {
      await waitForOffsets(world.redis.client, prefix, config.stream.groupId, topics.clickstream, [
        events.length,
      ]);
    } finally {
      await topology.close();
    }

    const tp = { topic: topics.clickstream, partition: 0 };
    const stats = await world.redis.client.hgetall(partitionKey(prefix, tp, 'stats'));
    const deadLetters = Object.entries(stats).filter(([field]) => field.startsWith('dlq:'));
    expect(deadLetters).toEqual([['dlq:CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA', '1']]);
    const { reference, differences } = await compareEventsWithState(world.redis.client, prefix, tp, events);
    expect(reference.events).toBe(events.length);
    expect([...reference.item.keys()].some((k) => k.startsWith('clk|'))).toBe(true);
    expect(differences).toEqual([]);
  });

  it('is registered again by its writer, whose later records carry an id the registry resolves', async () => {
    const topics = testTopics(`again${Date.now()}`);
    const writer = createEventCodec({ registryUrl: world.stack.registry.url, schemas: loadSchemas() });
    const click = generateClickstream({ seed: 3, users: 2, items: 3, requests: 10 }).find(
      (e) => e.type === 'Click',
    )!.event;
    const before = await writer.encode(topics.clickstream, 'Click', click as never);
    expect(await writer.recheckRegistered()).toEqual([]);

    const subject = writer.subjectFor(topics.clickstream, 'Click');
    await deleteSubjectForGood(world.stack.registry.url, subject);
    expect(await schemaIdStatus(world.stack.registry.url, readSchemaId(before))).toBe(404);

    const again = await writer.recheckRegistered();
    expect(again.map((r) => r.subject)).toEqual([subject]);
    const after = await writer.encode(topics.clickstream, 'Click', click as never);
    expect(readSchemaId(after)).toBe(again[0].id);
    expect(readSchemaId(after)).not.toBe(readSchemaId(before));
    expect(await schemaIdStatus(world.stack.registry.url, readSchemaId(after))).toBe(200);
    // The writer's own reads of its earlier records still work.
    expect((await writer.decode(before)).value).toEqual(click);
  });
});

describe('readUnregistered', () => {
  const codec = createEventCodec({ registryUrl: 'http://127.0.0.1:9', schemas: loadSchemas() });
  const schemas = loadSchemas();
  const click = {
    eventId: 'e1',
    requestId: 'r1',
    userId: 'u1',
    itemId: 'i1',
    slot: 3,
    segment: null,
    timestamp: 1_700_000_000_123,
  };
  const body = schemas.Click.toBuffer(click);
  const value = Buffer.alloc(5 + body.length);
  writeHeader(value, 424_242);
  body.copy(value, 5);
  const raw = (key: string, timestamp?: number): RawRecord => ({
    offset: 0,
    key: Buffer.from(key),
    value,
    ...(timestamp === undefined ? {} : { timestamp }),
  });

  it('reads a Click whose bytes also decode whole as a Conversion by its key and time', () => {
    // The tail of this Click (slot, null segment, time) is also a Conversion's value and time.
    expect(() => codec.decodeAsContract(value, 'Conversion')).not.toThrow();
    expect(readUnregistered(codec, 'clickstream', raw('u1', click.timestamp))).toEqual({
      ok: true,
      schemaName: 'Click',
      value: click,
    });
  });

  it('leaves a record it cannot read without doubt unread, saying why', () => {
    const otherKey = readUnregistered(codec, 'clickstream', raw('u2', click.timestamp));
    expect(otherKey).toEqual({ ok: false, reason: expect.stringContaining('none of the clickstream') });
    const asItems = readUnregistered(codec, 'items', raw('u1', click.timestamp));
    expect(asItems.ok).toBe(false);
  });
});
