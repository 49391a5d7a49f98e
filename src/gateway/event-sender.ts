/**
 * The event log's sender: encodes a batch (Avro, Confluent wire format) and sends it to the clickstream topic
 * through a kafkajs idempotent producer, connected on first use and again after a failure. An event that
 * cannot be encoded, or whose record alone is over Kafka's message size limit, is dropped and counted; a
 * registry that does not answer fails the whole batch (retried). The batch goes in sends of at most
 * `MAX_SEND_BYTES` (kafkajs puts a send's records of one partition into one record batch, which Kafka refuses
 * over `max.message.bytes` on every retry), and each send's events are settled as Kafka takes them.
 */
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { ClickstreamSchemaName, RecordShapes } from '../../streams/schemas/index.ts';
import { CroupierError } from '../errors/index.ts';
import { MAX_SEND_BYTES, messageBytes, sendGroups } from '../kafka/index.ts';
import type { Logger } from '../log/logger.ts';
import type { QueuedEvent } from './event-buffer.ts';

/** The part of the event codec (src/kafka) the log needs. */
export interface EventEncoder {
  encode<K extends ClickstreamSchemaName>(
    topic: string,
    schemaName: K,
    value: RecordShapes[K],
  ): Promise<Buffer>;
}

/**
 * Sending a batch failed: `unsent` are its events neither sent nor dropped, the only ones to retry (an event
 * dropped as unencodable or too large is not tried, logged and counted again with every retry of its batch).
 */
export class SendFailure extends Error {
  constructor(
    readonly unsent: QueuedEvent[],
    override readonly cause: unknown,
  ) {
    super(`sending events to Kafka failed with ${unsent.length} of the batch unsent: ${String(cause)}`);
  }
}

export class EventSender {
  /** Events Kafka acknowledged. */
  sent = 0;
  /** Events dropped because they could not be encoded or were over the size limit (counted once, never retried). */
  invalid = 0;
  /** Whether the producer is connected (false again after a failed send). */
  connected = false;
  private producer: Producer | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: EventEncoder,
    private readonly topic: string,
    private readonly log: Logger,
  ) {}

  /** Events of the batch being sent that were dropped (kept out of a `SendFailure`'s unsent). */
  private readonly dropped = new WeakSet<QueuedEvent>();

  /** Sends `batch`; throws a `SendFailure` naming the events to retry when encoding or a send fails. */
  async send(batch: QueuedEvent[]): Promise<void> {
    /** Events before this index are sent or dropped. */
    let done = 0;
    try {
      const entries = await this.encode(batch);
      for (const group of sendGroups(entries)) {
        const p = await this.ensureProducer();
        await p.send({
          topic: this.topic,
          acks: -1,
          messages: group.map(({ key, value, timestamp }) => ({ key, value, timestamp })),
        });
        this.sent += group.length;
        for (const { index } of group) {
          batch[index]!.settled?.(true);
          batch[index]!.settled = undefined;
        }
        done = group[group.length - 1]!.index + 1;
      }
    } catch (error) {
      throw new SendFailure(
        batch.slice(done).filter((event) => !this.dropped.has(event)),
        error,
      );
    }
  }

  /** The batch's records, with each event's index; an event that cannot be sent is dropped. */
  private async encode(
    batch: QueuedEvent[],
  ): Promise<{ key: string; value: Buffer; timestamp: string; index: number }[]> {
    const { codec, topic } = this;
    const entries: { key: string; value: Buffer; timestamp: string; index: number }[] = [];
    for (const [index, event] of batch.entries()) {
      let value: Buffer;
      try {
        value = await codec.encode(topic, event.schema, event.value as never);
      } catch (error) {
        if (error instanceof CroupierError && error.code === 'CROUPIER_ERR_REGISTRY_UNAVAILABLE') throw error;
        this.drop(event, { err: error }, 'an event could not be encoded and was dropped');
        continue;
      }
      const entry = { key: event.key, value, timestamp: String(event.timestamp), index };
      if (messageBytes(entry) > MAX_SEND_BYTES) {
        this.drop(
          event,
          { bytes: messageBytes(entry), maxBytes: MAX_SEND_BYTES },
          "an event's record is over Kafka's message size limit and was dropped",
        );
        continue;
      }
      entries.push(entry);
    }
    return entries;
  }

  private drop(event: QueuedEvent, details: Record<string, unknown>, message: string): void {
    this.dropped.add(event);
    this.invalid++;
    this.log.error({ ...details, schema: event.schema }, message);
    event.settled?.(false);
    event.settled = undefined;
  }

  async close(): Promise<void> {
    if (this.producer !== null) await this.producer.disconnect().catch(() => undefined);
  }

  private async ensureProducer(): Promise<Producer> {
    if (this.producer !== null && this.connected) return this.producer;
    this.producer ??= this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    await this.producer.connect();
    this.connected = true;
    this.log.info({ topic: this.topic }, 'event log connected to Kafka');
    return this.producer;
  }
}
