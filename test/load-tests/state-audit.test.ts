/**
 * The reliability audit's reference fold against the real topology: the audit must find Redis exact whenever the
 * topology folded every record once, including events stamped far ahead of the topology's clock, which the fold
 * takes into the decayed counts at `stream.decayMaxFutureSeconds` after its clock.
 */
import { describe, expect, it } from 'vitest';
import { auditClickstream } from '../../load-tests/reliability/state-audit.ts';
import type { ClickstreamEvent } from '../../streams/schemas/index.ts';
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
    const { stack, redis } = world;
    const prefix = redis.prefix();
    const topics = testTopics(`audit-dlq${Date.now()}`);
    await createTopics(stack.admin, topics, 1);
    const stream = { decayHalfLifeSeconds: 365 * 24 * 3600, positionBias: { enabled: false } };
    const events = generateClickstream({
      seed: 12,
      users: 4,
      items: 6,
      requests: 20,
      startTime: Date.now() - 60_000,
    });
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
    const audit = await auditClickstream({
      kafka: stack.kafka,
      codec: stack.codec,
      redis: redis.client,
      config: topologyConfig({ kafka: { topics }, redis: { keyPrefix: prefix }, stream }),
      timeoutMs: 30_000,
    });
    expect(audit.skipped).toBe(2);
    expect(audit.records).toBe(events.length);
    expect(audit.differences).toEqual([]);
    expect(audit.exact).toBe(true);
  });
});
