import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/domain/decision.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { EVENT_LOG_WARN_AFTER_MS, eventLogWarnings, startEventLog } from '../../src/gateway/event-log.ts';
import { carouselRecord } from '../../src/gateway/event-records.ts';
import { createEventCodec, type DecodedEvent } from '../../src/kafka/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { type Carousel, loadSchemas } from '../../streams/schemas/index.ts';
import { validateRecord } from '../../streams/validate/events.ts';
import { startTestBroker } from '../support/broker.ts';
import { startTestRegistry } from '../support/registry.ts';
import { eventually } from './support.ts';

function decision(requestId: string, items: number): Decision {
  return {
    requestId,
    userId: 'u1',
    items: Array.from({ length: items }, (_, slot) => ({
      itemId: `i${slot}`,
      slot,
      score: 0.1,
      sample: 0.2,
      propensity: 0.5,
    })),
    policy: 'thompson',
    modelVersion: 'm1',
    experiment: null,
    variant: null,
    segment: 'mobile|x',
    shadow: null,
    timings: { featuresUs: 0, scoringUs: 0, samplingUs: 0 },
  };
}

/** An event log whose Kafka is a free port nothing listens on (every send fails at once), and its registry. */
async function startLogOnUnreachableKafka(options: { bufferMax?: number } = {}) {
  const registry = await startTestRegistry();
  const port = await freePort();
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${port}`],
    clientId: 'unreachable',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 200,
    retry: { retries: 0 },
  });
  const codec = createEventCodec({ registryUrl: registry.url, schemas: loadSchemas() });
  const log = startEventLog({
    kafka,
    codec,
    topic: 'clickstream',
    logger: silentLogger(),
    batchMs: 5,
    ...options,
  });
  return { registry, log };
}

/** A test broker and registry, the clickstream topic with `partitions`, and an event log sending to it. */
async function startLogOnBroker(clientId: string, partitions: number, batchMax?: number) {
  const [broker, registry] = await Promise.all([startTestBroker(), startTestRegistry()]);
  const kafka = new Kafka({ brokers: broker.brokers, clientId, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: 'clickstream', numPartitions: partitions }],
  });
  const codec = createEventCodec({ registryUrl: registry.url, schemas: loadSchemas() });
  const log = startEventLog({
    kafka,
    codec,
    topic: 'clickstream',
    logger: silentLogger(),
    batchMs: 5,
    ...(batchMax !== undefined ? { batchMax } : {}),
  });
  return { broker, registry, kafka, admin, codec, log };
}

describe('carousel record', () => {
  it('holds every shown item with its propensities and the feature row the model scored for it', () => {
    const d = decision('r1', 3);
    d.features = Float32Array.from({ length: 3 * 4 }, (_, i) => i / 3);
    d.featureSpecHash = 'sha256:abc';
    d.shadow = {
      policy: 'greedy',
      items: [
        { itemId: 'i2', slot: 0, score: 0.1, sample: 0.1, propensity: 1 },
        { itemId: 'x', slot: 1, score: 0.1, sample: 0.1, propensity: 1 },
      ],
      shownPropensities: [0, 0, 0.25],
      shownPropensity: { method: 'exact', replicates: 0, errorBound: 0, delta: 0, standardError: 0 },
    };
    const record = carouselRecord(d, { device: 'tv', country: null, page: null }, 1234);
    expect(record).toMatchObject({ schema: 'Carousel', key: 'u1', timestamp: 1234 });
    const value = record.value as Carousel;
    expect(value).toMatchObject({
      requestId: 'r1',
      userId: 'u1',
      policy: 'thompson',
      segment: 'mobile|x',
      context: { device: 'tv', country: null, page: null },
      shadowPolicy: 'greedy',
      featureSpecHash: 'sha256:abc',
      timestamp: 1234,
    });
    expect(value.items.map((i) => [i.itemId, i.slot, i.shadowSlot, i.shadowPropensity])).toEqual([
      ['i0', 0, null, 0],
      ['i1', 1, null, 0],
      ['i2', 2, 0, 0.25],
    ]);
    // Row s of the decision's matrix, exactly as float32.
    expect(value.items[1].features).toEqual(Array.from(d.features.subarray(4, 8)));
    expect(loadSchemas().Carousel.isValid(value)).toBe(true);
  });

  it('logs a score the model gave outside [0, 1] as none, so the topology folds the carousel', () => {
    // A model that passed the load-time probe can score NaN (or 1.7) on live rows; a record holding such a score
    // is refused by the topology's validation, and with it the impressions of every item the carousel showed.
    const d = decision('r3', 4);
    [Number.NaN, 1.7, -0.1, 0.3].forEach((score, slot) => {
      d.items[slot].score = score;
    });
    const value = carouselRecord(d, { device: null, country: null, page: null }, 1)
      .value as unknown as Carousel;
    expect(value.items.map((item) => item.score)).toEqual([null, null, null, 0.3]);
    expect(validateRecord('clickstream', 'Carousel', value)).toBeUndefined();
  });

  it('logs no rows (and no spec hash) when the decision carries none', () => {
    const value = carouselRecord(decision('r2', 2), { device: null, country: null, page: null }, 1)
      .value as Carousel;
    expect(value.context).toBeNull();
    expect(value.featureSpecHash).toBeNull();
    expect(value.items.every((i) => i.features === null && i.shadowPropensity === null)).toBe(true);
  });
});

describe('event log', () => {
  it('holds events while Kafka is unreachable, then sheds the oldest beyond its bound without blocking', async () => {
    const { registry, log } = await startLogOnUnreachableKafka({ bufferMax: 10 });
    try {
      const click = log.logFeedback({
        kind: 'click',
        requestId: 'r4',
        userId: 'u1',
        itemId: 'i0',
        slot: 0,
        segment: null,
      });
      for (let i = 0; i < 15; i++)
        log.logCarousel(decision(`r${i}`, 5), { device: null, country: null, page: null });
      // The click was among the oldest and was shed: whoever waits for it hears it never reached Kafka.
      expect(await click).toBe(false);
      const stats = log.stats();
      expect(stats.queued).toBe(10);
      expect(stats.shed).toBe(6);
      const failed = await eventually(() => (log.stats().sendFailures > 0 ? log.stats() : undefined));
      expect(failed).toMatchObject({ sent: 0, connected: false });
      expect(failed.queued).toBeLessThanOrEqual(10);
    } finally {
      await log.close();
      await registry.close();
    }
  });

  it('says how long its events have not reached Kafka, which /readyz warns of past a few seconds', async () => {
    const { registry, log } = await startLogOnUnreachableKafka();
    try {
      expect(eventLogWarnings(log.stats())).toEqual([]);
      log.logCarousel(decision('r-wait', 2), { device: null, country: null, page: null });
      const waiting = await eventually(
        () => (log.stats().unsentForMs! > EVENT_LOG_WARN_AFTER_MS ? log.stats() : undefined),
        EVENT_LOG_WARN_AFTER_MS + 10_000,
      );
      expect(waiting.queued).toBe(1);
      expect(eventLogWarnings(waiting)).toEqual([expect.stringContaining('has not reached Kafka for')]);
    } finally {
      await log.close();
      await registry.close();
    }
  });

  it('drops an event too large for Kafka once, however often the sends of its batch fail', async () => {
    const { registry, log } = await startLogOnUnreachableKafka();
    try {
      // 100 rows of 3,000 columns: a record of 1.2 MB, over what any send can take.
      const tooLarge = decision('too-large', 100);
      tooLarge.features = new Float32Array(100 * 3000).fill(0.5);
      tooLarge.featureSpecHash = 'sha256:abc';
      log.logCarousel(tooLarge, { device: null, country: null, page: null });
      log.logCarousel(decision('kept', 5), { device: null, country: null, page: null });
      const failed = await eventually(() => (log.stats().sendFailures >= 3 ? log.stats() : undefined));
      // Dropped and counted on the first try; only the other carousel is held for the next.
      expect(failed).toMatchObject({ invalid: 1, sent: 0 });
      expect(failed.queued).toBe(1);
    } finally {
      await log.close();
      await registry.close();
    }
  });

  it('keeps a held carousel and what was logged after it until it is released, then sends them in order', async () => {
    const { broker, registry, kafka, admin, codec, log } = await startLogOnBroker('held-test', 1);
    await admin.disconnect();
    const consumer = kafka.consumer({ groupId: 'held-test' });
    try {
      const held = decision('held', 3);
      for (const item of held.items) item.propensity = Number.NaN;
      log.logCarousel(decision('before', 2), { device: null, country: null, page: null });
      const release = log.holdCarousel(held, { device: null, country: null, page: null });
      log.logFeedback({
        kind: 'click',
        requestId: 'held',
        userId: 'u1',
        itemId: 'i1',
        slot: 1,
        segment: null,
      });
      // Everything before the held carousel goes; it and the click behind it wait.
      await eventually(() => (log.stats().sent === 1 ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(log.stats()).toMatchObject({ sent: 1, queued: 2, shed: 0 });
      held.items.forEach((item, s) => {
        item.propensity = 0.25 * (s + 1);
      });
      const clickInKafka = log.logFeedback({
        kind: 'click',
        requestId: 'held',
        userId: 'u1',
        itemId: 'i2',
        slot: 2,
        segment: null,
      });
      let settled = false;
      void clickInKafka.then(() => {
        settled = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Behind the held carousel, the click is not in Kafka yet, and its promise says nothing yet.
      expect(settled).toBe(false);
      release();
      // Once it resolves, the record is in the topic.
      expect(await clickInKafka).toBe(true);
      const admin2 = kafka.admin();
      await admin2.connect();
      const [{ high }] = await admin2.fetchTopicOffsets('clickstream');
      await admin2.disconnect();
      expect(Number(high)).toBe(4);
      await log.flush();
      expect(log.stats()).toMatchObject({ sent: 4, queued: 0 });

      const consumed: DecodedEvent[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: 'clickstream', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value !== null) consumed.push(await codec.decode(message.value));
        },
      });
      await eventually(() => (consumed.length === 4 ? true : undefined), 20_000);
      expect(consumed.map((e) => `${e.schemaName}:${(e.value as { requestId: string }).requestId}`)).toEqual([
        'Carousel:before',
        'Carousel:held',
        'Click:held',
        'Click:held',
      ]);
      const carousel = consumed[1].value as Carousel;
      expect(carousel.items.map((i) => i.propensity)).toEqual([0.25, 0.5, 0.75]);
    } finally {
      await consumer.disconnect();
      await log.close();
      await Promise.all([broker.close(), registry.close()]);
    }
  });

  it('sends a burst of large carousels of one user in produce requests Kafka takes, and drops one too large for any', async () => {
    // 200 carousels of 100 slots with 27-column feature rows are about 3.5 MB, all keyed by one user (one
    // partition, one record batch per send): over Kafka's 1 MB max.message.bytes in one send, refused for good.
    const { broker, registry, admin, log } = await startLogOnBroker('burst-test', 2);
    const withRows = (requestId: string, width: number) => {
      const d = decision(requestId, 100);
      d.features = Float32Array.from({ length: 100 * width }, (_, i) => (i % 97) / 97);
      d.featureSpecHash = 'sha256:abc';
      return d;
    };
    try {
      for (let i = 0; i < 100; i++)
        log.logCarousel(withRows(`r${i}`, 27), { device: null, country: null, page: null });
      // One carousel whose record alone is over the limit (100 rows of 3,000 columns, 1.2 MB): no send can take it.
      log.logCarousel(withRows('too-large', 3000), { device: null, country: null, page: null });
      for (let i = 100; i < 200; i++)
        log.logCarousel(withRows(`r${i}`, 27), { device: null, country: null, page: null });
      const click = log.logFeedback({
        kind: 'click',
        requestId: 'r199',
        userId: 'u1',
        itemId: 'i0',
        slot: 0,
        segment: null,
      });
      expect(await click).toBe(true);
      await log.flush();
      expect(log.stats()).toMatchObject({ sent: 201, invalid: 1, queued: 0, shed: 0 });
      const offsets = await admin.fetchTopicOffsets('clickstream');
      expect(offsets.reduce((sum, o) => sum + Number(o.high), 0)).toBe(201);
    } finally {
      await admin.disconnect();
      await log.close();
      await Promise.all([broker.close(), registry.close()]);
    }
  });

  it('counts the framing of each record against the limit: 30,000 small events in one batch reach Kafka', async () => {
    // 30,000 clicks of one user are about 1.1 MB of keys and values and 0.3 MB more of record framing: split by
    // their keys and values alone, a send of 1,000,000 bytes of them is a record batch over Kafka's limit.
    const { broker, registry, admin, log } = await startLogOnBroker('small-test', 1, 30_000);
    try {
      const clicks: Promise<boolean>[] = [];
      for (let i = 0; i < 30_000; i++)
        clicks.push(
          log.logFeedback({
            kind: 'click',
            requestId: `r${i}`,
            userId: 'u1',
            itemId: 'i0',
            slot: 0,
            segment: null,
          }),
        );
      expect((await Promise.all(clicks)).every(Boolean)).toBe(true);
      expect((await admin.fetchTopicOffsets('clickstream'))[0]!.high).toBe('30000');
      // Sends succeed: nothing is waiting, nothing to warn of.
      expect(log.stats().unsentForMs).toBe(0);
      expect(eventLogWarnings(log.stats())).toEqual([]);
    } finally {
      await admin.disconnect();
      await log.close();
      await Promise.all([broker.close(), registry.close()]);
    }
  });
});
