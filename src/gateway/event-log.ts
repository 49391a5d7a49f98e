/**
 * The gateway's event log: every dealt carousel (one Carousel record) and every piece of feedback goes to the clickstream
 * topic (key userId), Avro in the Confluent wire format, through a kafkajs idempotent producer in batches.
 *
 * Serving never waits on Kafka: `log*` only appends to a bounded in-memory buffer (event-buffer.ts); a pump
 * (event-pump.ts) hands batches to the sender (event-sender.ts). When Kafka is slow or unreachable the buffer
 * fills, then the oldest events are shed, counted and logged. The records themselves: event-records.ts.
 */
import type { Kafka } from 'kafkajs';
import type { RecordShapes } from '../../streams/schemas/index.ts';
import type { Decision, RequestContext } from '../domain/decision.ts';
import type { Logger } from '../log/logger.ts';
import { EventBuffer } from './event-buffer.ts';
import { EventPump } from './event-pump.ts';
import { carouselRecord, type FeedbackEvent, feedbackRecord } from './event-records.ts';

type CarouselValue = RecordShapes['Carousel'];

import { type EventEncoder, EventSender } from './event-sender.ts';

export interface EventLogOptions {
  kafka: Kafka;
  codec: EventEncoder;
  /** The clickstream topic. */
  topic: string;
  logger: Logger;
  /** Most events held while Kafka is behind (default 100,000). */
  bufferMax?: number;
  /** Longest wait before a partial batch is sent (ms, default 20). */
  batchMs?: number;
  /** Most events per produce request (default 1,000). */
  batchMax?: number;
}

export interface EventLogStats {
  queued: number;
  sent: number;
  shed: number;
  /** Events dropped because they could not be encoded (never retried). */
  invalid: number;
  sendFailures: number;
  connected: boolean;
  /** How long events have been waiting for a send Kafka takes (ms; 0 or absent while sends succeed). */
  unsentForMs?: number;
}

/** After this long without a send Kafka took, `/readyz` warns (feedback waits unacknowledged meanwhile). */
export const EVENT_LOG_WARN_AFTER_MS = 5000;

/** `/readyz` warnings of an event log whose events have not reached Kafka for a while. */
export function eventLogWarnings(stats: EventLogStats): string[] {
  const unsentForMs = stats.unsentForMs ?? 0;
  if (unsentForMs <= EVENT_LOG_WARN_AFTER_MS) return [];
  return [
    `the event log has not reached Kafka for ${Math.round(unsentForMs / 1000)} s (${stats.queued} events waiting, ${stats.sendFailures} failed sends): feedback is not acknowledged until it does`,
  ];
}

export interface EventLog {
  /** One Carousel record of the decision's shown items. */
  logCarousel(decision: Decision, context: RequestContext, timestamp?: number): void;
  /**
   * The decision's Carousel record, queued now in its place but held (with every event logged after it) until
   * `release` is called once the decision's propensities are known; `release` copies them into the record, and the
   * shadow model's scores of a logged candidate set.
   */
  holdCarousel(decision: Decision, context: RequestContext, timestamp?: number): () => void;
  /**
   * Resolves true once Kafka acknowledged the feedback record, false when it was shed (Kafka unreachable past
   * `bufferMax`) or could not be encoded: an acknowledgement to the client waits for this, so a click it was told
   * was counted survives a crash of the process.
   */
  logFeedback(event: FeedbackEvent, timestamp?: number): Promise<boolean>;
  stats(): EventLogStats;
  /** Resolves once everything queued so far was sent (or shed); for tests and shutdown. */
  flush(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function startEventLog(options: EventLogOptions): EventLog {
  const log = options.logger.child({ component: 'event-log' });
  const batchMax = options.batchMax ?? 1000;
  const buffer = new EventBuffer({
    bufferMax: options.bufferMax ?? 100_000,
    batchMax,
    log,
    onBatchReady: () => pump.wakeUp(),
  });
  const sender = new EventSender(options.kafka, options.codec, options.topic, log);
  const pump = new EventPump(buffer, sender, { batchMs: options.batchMs ?? 20, batchMax, log });
  const enqueue = buffer.push.bind(buffer);

  return {
    logCarousel(decision, context, timestamp = Date.now()) {
      enqueue(carouselRecord(decision, context, timestamp));
    },
    holdCarousel(decision, context, timestamp = Date.now()) {
      const record = carouselRecord(decision, context, timestamp);
      record.held = true;
      enqueue(record);
      return () => {
        const items = (record.value as CarouselValue).items;
        for (let s = 0; s < items.length; s++) items[s].propensity = decision.items[s].propensity;
        // With the shadow model's scores, which came after the reply too (model.shadowVersion).
        if (decision.candidates !== undefined)
          (record.value as CarouselValue).candidates = decision.candidates.resolve();
        record.held = false;
      };
    },
    logFeedback(event, timestamp = Date.now()) {
      const record = feedbackRecord(event, timestamp);
      const inKafka = new Promise<boolean>((resolve) => {
        record.settled = resolve;
      });
      enqueue(record);
      return inKafka;
    },
    stats: () => ({
      queued: buffer.length + pump.inFlight,
      sent: sender.sent,
      shed: buffer.shed,
      invalid: sender.invalid,
      sendFailures: pump.sendFailures,
      connected: sender.connected,
      unsentForMs: pump.unsentSince === null ? 0 : Date.now() - pump.unsentSince,
    }),
    flush: (timeoutMs = 10_000) => pump.flush(timeoutMs),
    async close() {
      if (pump.closed) return;
      // Wait for what is queued only while Kafka takes it; an unreachable Kafka must not hold up shutdown.
      if (pump.failures === 0) await pump.flush(5000);
      await pump.stop();
      await sender.close();
    },
  };
}
