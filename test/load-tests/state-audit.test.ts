/**
 * The reliability audit's reference fold against the real topology: the audit must find Redis exact whenever the
 * topology folded every record once, including events stamped far ahead of the topology's clock, which the fold
 * takes into the decayed counts at `stream.decayMaxFutureSeconds` after its clock.
 */
import { describe, expect, it } from 'vitest';
import { type AuditCodec, auditClickstream } from '../../load-tests/reliability/state-audit.ts';
import { createEventCodec } from '../../src/kafka/index.ts';
import { type ClickstreamEvent, loadSchemas } from '../../streams/schemas/index.ts';
import { generateClickstream } from '../streams/support/events.ts';
import {
  createTopics,
  foldUntilOffsets,
  produceClickstream,
  testTopics,
  topologyConfig,
  useKafkaStackWithRedis,
} from '../streams/support/stack.ts';

const PARTITIONS = 2;
const world = useKafkaStackWithRedis();

/** `event` restamped `aheadMs` later (its record keeps the producer's own clock as its Kafka timestamp). */
function stampedAhead(event: ClickstreamEvent, aheadMs: number): ClickstreamEvent {
  return {
    ...event,
    event: { ...event.event, timestamp: event.event.timestamp + aheadMs },
  } as ClickstreamEvent;
}

/**
 * Topics of one partition for a test of its own, folded with a half-life of a year and no position bias, and the
 * events of a clickstream of the last minute.
 */
async function onePartitionRun(
  name: string,
  clickstream: { seed: number; users: number; items: number; requests: number },
) {
  const { stack, redis } = world;
  const events = generateClickstream({ ...clickstream, startTime: Date.now() - 60_000 });
  const topics = testTopics(`${name}${Date.now()}`);
  await createTopics(stack.admin, topics, 1);
  const stream = { decayHalfLifeSeconds: 365 * 24 * 3600, positionBias: { enabled: false } };
  return { stack, redis, prefix: redis.prefix(), topics, stream, events };
}

/** The audit of such a run, decoding with `codec`. */
function auditRun(run: Awaited<ReturnType<typeof onePartitionRun>>, codec: AuditCodec) {
  return auditClickstream({
    kafka: run.stack.kafka,
    codec,
    redis: run.redis.client,
    config: topologyConfig({
      kafka: { topics: run.topics },
      redis: { keyPrefix: run.prefix },
      stream: run.stream,
    }),
    timeoutMs: 30_000,
  });
}

describe('the reliability audit', () => {
  it('finds Redis exact when events were stamped far ahead of the topology clock', async () => {
    const { stack, redis } = world;
    const prefix = redis.prefix();
    const topics = testTopics(`audit${Date.now()}`);
    await createTopics(stack.admin, topics, PARTITIONS);
    // A half-life of a year: the audit knows the topology's clock only as the records' Kafka timestamps, a few
    // seconds before the fold read it, which moves a decayed count by about 2e-8 a second.
    const stream = {
      decayHalfLifeSeconds: 365 * 24 * 3600,
      decayMaxFutureSeconds: 300,
      recentClicks: 5,
      positionBias: { enabled: false },
    };
    const events = generateClickstream({
      seed: 11,
      users: 6,
      items: 8,
      requests: 60,
      startTime: Date.now() - 120_000,
    }).map((e, i) => (i % 7 === 3 ? stampedAhead(e, 30 * 24 * 3600 * 1000) : e));
    const byPartition = await produceClickstream(stack, topics.clickstream, events, PARTITIONS);
    await foldUntilOffsets(
      stack,
      redis.client,
      prefix,
      topics,
      { [topics.clickstream]: byPartition.map((p) => p.length - 1) },
      stream,
    );

    const config = topologyConfig({ kafka: { topics }, redis: { keyPrefix: prefix }, stream });
    const audit = await auditClickstream({
      kafka: stack.kafka,
      codec: stack.codec,
      redis: redis.client,
      config,
      timeoutMs: 30_000,
    });
    expect(audit.records).toBe(events.length);
    expect(audit.differences).toEqual([]);
    expect(audit.exact).toBe(true);

    // The same log audited without the limit (a year ahead is the longest the setting allows, the events are 30
    // days ahead): only decayed counts differ, which is what the limit accounts for.
    const unlimited = await auditClickstream({
      kafka: stack.kafka,
      codec: stack.codec,
      redis: redis.client,
      config: topologyConfig({
        kafka: { topics },
        redis: { keyPrefix: prefix },
        stream: { ...stream, decayMaxFutureSeconds: 31_536_000 },
      }),
      timeoutMs: 30_000,
    });
    expect(unlimited.exact).toBe(false);
    expect(unlimited.differences.length).toBeGreaterThan(0);
    for (const difference of unlimited.differences) expect(difference).toMatch(/^item d(imp|clk)\|/);
  });

  it('leaves out what the topology dead-letters, and ends on a record nothing can decode', async () => {
    const run = await onePartitionRun('audit-dlq', { seed: 12, users: 4, items: 6, requests: 20 });
    const { stack, redis, prefix, topics, stream, events } = run;
    const good = await produceClickstream(stack, topics.clickstream, events, 1);
    // Garbage bytes, then a Click whose slot is out of range (decodable, refused), last in the partition.
    const click = events.find((e) => e.type === 'Click') ?? events[0];
    const outOfRange = { ...click.event, eventId: 'bad-slot', slot: -5 };
    await stack.producer.send({
      topic: topics.clickstream,
      acks: -1,
      messages: [
        { key: 'x', partition: 0, value: Buffer.from('not an avro record') },
        {
          key: 'y',
          partition: 0,
          value: await stack.codec.encode(topics.clickstream, 'Click', outOfRange as never),
        },
      ],
    });
    const last = good[0].length + 1;
    await foldUntilOffsets(stack, redis.client, prefix, topics, { [topics.clickstream]: [last] }, stream);
    const audit = await auditRun(run, stack.codec);
    expect(audit.skipped).toBe(2);
    expect(audit.records).toBe(events.length);
    expect(audit.differences).toEqual([]);
    expect(audit.exact).toBe(true);
  });

  it('reads records whose schema id the registry no longer has as the topology does', async () => {
    // A subject deleted with ?permanent=true while the gateway still writes with its id: a topology that cached the
    // id folds those records, and one that had not reads them by their contract. The audit skipped them all, so a
    // run that deleted the Click subject was audited with a thousand differences in Redis's favour.
    const run = await onePartitionRun('audit-gone', { seed: 13, users: 3, items: 5, requests: 15 });
    const { stack, redis, prefix, topics, stream, events } = run;
    const messages = [];
    for (const e of events) {
      // As the gateway writes them: the user as the key, the event's time as the record's.
      const value = await stack.codec.encode(topics.clickstream, e.type, e.event as never);
      messages.push({ key: e.event.userId, partition: 0, timestamp: String(e.event.timestamp), value });
    }
    await stack.producer.send({ topic: topics.clickstream, acks: -1, messages });
    await foldUntilOffsets(
      stack,
      redis.client,
      prefix,
      topics,
      { [topics.clickstream]: [events.length - 1] },
      stream,
    );
    for (const name of ['Carousel', 'Click', 'Conversion', 'Impression', 'Watch']) {
      const subject = `${stack.registry.url}/subjects/${topics.clickstream}-croupier.events.${name}`;
      await fetch(subject, { method: 'DELETE' });
      await fetch(`${subject}?permanent=true`, { method: 'DELETE' });
    }
    const audit = await auditRun(
      run,
      createEventCodec({ registryUrl: stack.registry.url, schemas: loadSchemas() }),
    );
    expect(audit.skipped).toBe(0);
    expect(audit.records).toBe(events.length);
    expect(audit.differences).toEqual([]);
    expect(audit.exact).toBe(true);
  });
});
