/**
 * The gateway's event log: every shown item (an impression with slot, policy, model version, propensity,
 * experiment, segment, context and, when the request had a shadow policy, that policy's slot of the item and
 * its probability of the shown slot) and every piece of feedback goes to the clickstream topic (key userId),
 * Avro in the Confluent wire format, through a kafkajs idempotent producer in batches.
 *
 * Serving never waits on Kafka: `log*` only appends to a bounded in-memory queue; a pump sends batches. When
 * Kafka is slow or unreachable the queue fills, then the oldest events are shed, counted and logged.
 */
import { randomUUID } from 'node:crypto';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { ClickstreamSchemaName, RecordShapes } from '../../streams/schemas/index.ts';
import type { Decision, RequestContext } from '../decision/types.ts';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';

/** The part of the event codec (src/kafka) the log needs. */
export interface EventEncoder {
  encode<K extends ClickstreamSchemaName>(
    topic: string,
    schemaName: K,
    value: RecordShapes[K],
  ): Promise<Buffer>;
}

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

export type FeedbackEvent =
  | {
      kind: 'click';
      requestId: string;
      userId: string;
      itemId: string;
      slot: number | null;
      segment: string | null;
    }
  | { kind: 'conversion'; requestId: string; userId: string; itemId: string; value: number }
  | { kind: 'watch'; requestId: string; userId: string; itemId: string; watchTimeMs: number };

export interface EventLogStats {
  queued: number;
  sent: number;
  shed: number;
  /** Events dropped because they could not be encoded (never retried). */
  invalid: number;
  sendFailures: number;
  connected: boolean;
}

export interface EventLog {
  /** One impression per shown item of the decision. */
  logImpressions(decision: Decision, context: RequestContext, timestamp?: number): void;
  logFeedback(event: FeedbackEvent, timestamp?: number): void;
  stats(): EventLogStats;
  /** Resolves once everything queued so far was sent (or shed); for tests and shutdown. */
  flush(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface QueuedEvent {
  schema: ClickstreamSchemaName;
  key: string;
  value: RecordShapes[ClickstreamSchemaName];
  timestamp: number;
}

/** A FIFO with O(1) push and shift, compacted as it drains. */
class EventQueue {
  private items: QueuedEvent[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(event: QueuedEvent): void {
    this.items.push(event);
  }

  shift(): QueuedEvent | undefined {
    if (this.head >= this.items.length) return undefined;
    const event = this.items[this.head];
    this.head++;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return event;
  }

  take(n: number): QueuedEvent[] {
    const out = this.items.slice(this.head, this.head + n);
    for (let i = 0; i < out.length; i++) this.shift();
    return out;
  }

  /** Puts events back at the front (a failed batch, to be retried first). */
  unshiftAll(events: QueuedEvent[]): void {
    this.items = [...events, ...this.items.slice(this.head)];
    this.head = 0;
  }
}

export function startEventLog(options: EventLogOptions): EventLog {
  const { kafka, codec, topic } = options;
  const log = options.logger.child({ component: 'event-log' });
  const bufferMax = options.bufferMax ?? 100_000;
  const batchMs = options.batchMs ?? 20;
  const batchMax = options.batchMax ?? 1000;
  const queue = new EventQueue();
  const counters = { sent: 0, shed: 0, invalid: 0, sendFailures: 0 };
  let inFlight = 0;
  let connected = false;
  let closed = false;
  let producer: Producer | null = null;
  let wake: (() => void) | null = null;
  let lastShedLog = 0;
  let shedSinceLog = 0;

  const enqueue = (event: QueuedEvent) => {
    queue.push(event);
    if (queue.length > bufferMax) shed(queue.length - bufferMax);
    if (queue.length >= batchMax && wake !== null) wake();
  };

  const shed = (n: number) => {
    for (let i = 0; i < n; i++) queue.shift();
    counters.shed += n;
    shedSinceLog += n;
    const now = Date.now();
    if (now - lastShedLog >= 5000) {
      log.warn(
        { shed: shedSinceLog, shedTotal: counters.shed, bufferMax },
        'Kafka is not keeping up: the event buffer is full and the oldest events are being shed',
      );
      lastShedLog = now;
      shedSinceLog = 0;
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });

  const ensureProducer = async (): Promise<Producer> => {
    if (producer !== null && connected) return producer;
    producer ??= kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    await producer.connect();
    connected = true;
    log.info({ topic }, 'event log connected to Kafka');
    return producer;
  };

  const sendBatch = async (batch: QueuedEvent[]): Promise<void> => {
    const messages: { key: string; value: Buffer; timestamp: string }[] = [];
    for (const event of batch) {
      try {
        const value = await codec.encode(topic, event.schema, event.value as never);
        messages.push({ key: event.key, value, timestamp: String(event.timestamp) });
      } catch (error) {
        if (error instanceof CroupierError && error.code === 'CROUPIER_ERR_REGISTRY_UNAVAILABLE') throw error;
        counters.invalid++;
        log.error({ err: error, schema: event.schema }, 'an event could not be encoded and was dropped');
      }
    }
    if (messages.length === 0) return;
    const p = await ensureProducer();
    await p.send({ topic, acks: -1, messages });
    counters.sent += messages.length;
  };

  let failures = 0;
  const pump = async (): Promise<void> => {
    while (!closed || queue.length > 0) {
      if (queue.length === 0) {
        if (closed) break;
        await sleep(batchMs);
        continue;
      }
      const batch = queue.take(batchMax);
      inFlight = batch.length;
      let failed: unknown = null;
      try {
        await sendBatch(batch);
      } catch (error) {
        failed = error;
      }
      inFlight = 0;
      if (failed === null) {
        if (failures > 0) log.info({ after: failures }, 'Kafka accepts events again');
        failures = 0;
      } else {
        counters.sendFailures++;
        failures++;
        connected = false;
        queue.unshiftAll(batch);
        if (queue.length > bufferMax) shed(queue.length - bufferMax);
        if (failures === 1 || failures % 20 === 0) {
          log.error(
            { err: failed, queued: queue.length, failures },
            'sending events to Kafka failed; holding them',
          );
        }
        if (closed) break;
        await sleep(Math.min(2000, 50 * 2 ** Math.min(failures, 6)));
        continue;
      }
      if (queue.length < batchMax && !closed) await sleep(batchMs);
    }
  };
  const pumping = pump();

  const flush = async (timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    wake?.();
    while (queue.length + inFlight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      wake?.();
    }
  };

  return {
    logImpressions(decision, context, timestamp = Date.now()) {
      const hasContext = context.device !== null || context.country !== null || context.page !== null;
      const shadow = decision.shadow;
      let shadowSlots: Map<string, number> | null = null;
      if (shadow !== null) {
        shadowSlots = new Map();
        for (const item of shadow.items) shadowSlots.set(item.itemId, item.slot);
      }
      for (let s = 0; s < decision.items.length; s++) {
        const item = decision.items[s];
        enqueue({
          schema: 'Impression',
          key: decision.userId,
          timestamp,
          value: {
            eventId: randomUUID(),
            requestId: decision.requestId,
            userId: decision.userId,
            itemId: item.itemId,
            slot: item.slot,
            policy: decision.policy,
            modelVersion: decision.modelVersion,
            propensity: item.propensity,
            score: item.score,
            experiment: decision.experiment,
            variant: decision.variant,
            segment: decision.segment,
            context: hasContext ? { ...context } : null,
            timestamp,
            shadowPolicy: shadow === null ? null : shadow.policy,
            shadowSlot: shadowSlots === null ? null : (shadowSlots.get(item.itemId) ?? null),
            shadowPropensity: shadow === null ? null : (shadow.shownPropensities[s] ?? null),
          },
        });
      }
    },
    logFeedback(event, timestamp = Date.now()) {
      const base = {
        eventId: randomUUID(),
        requestId: event.requestId,
        userId: event.userId,
        itemId: event.itemId,
      };
      if (event.kind === 'click') {
        enqueue({
          schema: 'Click',
          key: event.userId,
          timestamp,
          value: { ...base, slot: event.slot, segment: event.segment, timestamp },
        });
      } else if (event.kind === 'conversion') {
        enqueue({
          schema: 'Conversion',
          key: event.userId,
          timestamp,
          value: { ...base, value: event.value, timestamp },
        });
      } else {
        enqueue({
          schema: 'Watch',
          key: event.userId,
          timestamp,
          value: { ...base, watchTimeMs: event.watchTimeMs, timestamp },
        });
      }
    },
    stats: () => ({ queued: queue.length + inFlight, ...counters, connected }),
    flush,
    async close() {
      if (closed) return;
      // Wait for what is queued only while Kafka takes it; an unreachable Kafka must not hold up shutdown.
      if (failures === 0) await flush(5000);
      closed = true;
      if (queue.length > 0) shed(queue.length);
      wake?.();
      await pumping;
      if (producer !== null) await producer.disconnect().catch(() => undefined);
    },
  };
}
