/**
 * The event log's bounded buffer: a FIFO of encoded-to-be events that never blocks serving. Past `bufferMax`
 * the oldest events are shed, counted, and logged at most every 5 s; a full batch wakes the sender.
 */
import type { ClickstreamSchemaName, RecordShapes } from '../../streams/schemas/index.ts';
import type { Logger } from '../log/logger.ts';

/** One clickstream record waiting for Kafka. */
export interface QueuedEvent {
  schema: ClickstreamSchemaName;
  key: string;
  value: RecordShapes[ClickstreamSchemaName];
  timestamp: number;
  /**
   * Still being completed (a carousel whose propensities are being integrated): it and everything behind it
   * wait, so the topic keeps the order in which events were logged.
   */
  held?: boolean;
  /** Told once whether Kafka acknowledged the event (true) or it was shed or could not be encoded (false). */
  settled?: (inKafka: boolean) => void;
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

  /** Up to `n` events from the front, stopping at the first held one. */
  take(n: number): QueuedEvent[] {
    let end = this.head;
    const last = Math.min(this.items.length, this.head + n);
    while (end < last && this.items[end].held !== true) end++;
    const out = this.items.slice(this.head, end);
    for (let i = 0; i < out.length; i++) this.shift();
    return out;
  }

  /** Puts events back at the front (a failed batch, to be retried first). */
  unshiftAll(events: QueuedEvent[]): void {
    this.items = [...events, ...this.items.slice(this.head)];
    this.head = 0;
  }
}

export interface EventBufferOptions {
  /** Most events held. */
  bufferMax: number;
  /** Events per batch: a buffer holding this many calls `onBatchReady`. */
  batchMax: number;
  log: Logger;
  onBatchReady: () => void;
}

export class EventBuffer {
  /** Events shed so far. */
  shed = 0;
  private readonly queue = new EventQueue();
  private lastShedLog = 0;
  private shedSinceLog = 0;

  constructor(private readonly options: EventBufferOptions) {}

  get length(): number {
    return this.queue.length;
  }

  push(event: QueuedEvent): void {
    const { bufferMax, batchMax } = this.options;
    this.queue.push(event);
    if (this.queue.length > bufferMax) this.shedOldest(this.queue.length - bufferMax);
    if (this.queue.length >= batchMax) this.options.onBatchReady();
  }

  /** Takes up to `n` events from the front, up to the first held one. */
  take(n: number): QueuedEvent[] {
    return this.queue.take(n);
  }

  /** Puts a batch that failed back at the front, shedding the oldest past the bound. */
  requeue(batch: QueuedEvent[]): void {
    this.queue.unshiftAll(batch);
    if (this.queue.length > this.options.bufferMax)
      this.shedOldest(this.queue.length - this.options.bufferMax);
  }

  /** Sheds everything still held (shutdown). */
  shedAll(): void {
    if (this.queue.length > 0) this.shedOldest(this.queue.length);
  }

  private shedOldest(n: number): void {
    for (let i = 0; i < n; i++) this.queue.shift()?.settled?.(false);
    this.shed += n;
    this.shedSinceLog += n;
    const now = Date.now();
    if (now - this.lastShedLog >= 5000) {
      this.options.log.warn(
        { shed: this.shedSinceLog, shedTotal: this.shed, bufferMax: this.options.bufferMax },
        'Kafka is not keeping up: the event buffer is full and the oldest events are being shed',
      );
      this.lastShedLog = now;
      this.shedSinceLog = 0;
    }
  }
}
