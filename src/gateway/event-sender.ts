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

/** A send of a batch failed after its first `done` events were sent (or dropped): only the rest is retried. */
export class PartialSendError extends Error {
  constructor(
    readonly done: number,
    override readonly cause: unknown,
  ) {
    super(`sending events to Kafka failed after ${done} of the batch were sent: ${String(cause)}`);
  }
}

export class EventSender {
  /** Events Kafka acknowledged. */
  sent = 0;
  /** Events dropped because they could not be encoded (never retried). */
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

  /**
   * Sends `batch`; throws a `PartialSendError` saying how many events at its front are done (sent, or dropped)
   * when a send after the first fails, so that only the rest is retried.
   */
  async send(batch: QueuedEvent[]): Promise<void> {
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
    let done = 0;
    for (const group of sendGroups(entries)) {
      try {
        const p = await this.ensureProducer();
        await p.send({
          topic,
          acks: -1,
          messages: group.map(({ key, value, timestamp }) => ({ key, value, timestamp })),
        });
      } catch (error) {
        if (done === 0) throw error;
        throw new PartialSendError(done, error);
      }
      this.sent += group.length;
      for (const { index } of group) {
        batch[index]!.settled?.(true);
        batch[index]!.settled = undefined;
      }
      done = group[group.length - 1]!.index + 1;
    }
  }

  private drop(event: QueuedEvent, details: Record<string, unknown>, message: string): void {
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
