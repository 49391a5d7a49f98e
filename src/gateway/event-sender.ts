/**
 * The event log's sender: encodes a batch (Avro, Confluent wire format) and sends it to the clickstream topic
 * through a kafkajs idempotent producer, connected on first use and again after a failure. An event that
 * cannot be encoded is dropped and counted; a registry that does not answer fails the whole batch (retried).
 */
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { ClickstreamSchemaName, RecordShapes } from '../../streams/schemas/index.ts';
import { CroupierError } from '../errors/index.ts';
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

  async send(batch: QueuedEvent[]): Promise<void> {
    const { codec, topic } = this;
    const messages: { key: string; value: Buffer; timestamp: string }[] = [];
    for (const event of batch) {
      try {
        const value = await codec.encode(topic, event.schema, event.value as never);
        messages.push({ key: event.key, value, timestamp: String(event.timestamp) });
      } catch (error) {
        if (error instanceof CroupierError && error.code === 'CROUPIER_ERR_REGISTRY_UNAVAILABLE') throw error;
        this.invalid++;
        this.log.error({ err: error, schema: event.schema }, 'an event could not be encoded and was dropped');
        event.settled?.(false);
        event.settled = undefined;
      }
    }
    if (messages.length === 0) return;
    const p = await this.ensureProducer();
    await p.send({ topic, acks: -1, messages });
    this.sent += messages.length;
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
