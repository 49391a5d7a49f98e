/**
 * The event log's pump: takes batches from the buffer and hands them to the sender, waiting `batchMs` for a
 * partial batch (a full one wakes it at once). A failed batch goes back to the front of the buffer and the
 * pump backs off (50 ms doubling to 2 s); the first failure and every 20th are logged.
 */
import type { Logger } from '../log/logger.ts';
import type { EventBuffer } from './event-buffer.ts';
import { type EventSender, SendFailure } from './event-sender.ts';

export interface EventPumpOptions {
  /** Longest wait before a partial batch is sent (ms). */
  batchMs: number;
  /** Most events per send. */
  batchMax: number;
  log: Logger;
}

export class EventPump {
  /** Events of the batch being sent. */
  inFlight = 0;
  /** Sends that failed so far. */
  sendFailures = 0;
  /** Sends that failed in a row (0 while Kafka takes events). */
  failures = 0;
  /**
   * When the send that has not succeeded yet began (the first of a run of failures, or one still in flight);
   * null while the last send succeeded and none is under way.
   */
  unsentSince: number | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly pumping: Promise<void>;

  constructor(
    private readonly buffer: EventBuffer,
    private readonly sender: EventSender,
    private readonly options: EventPumpOptions,
  ) {
    this.pumping = this.run();
  }

  get closed(): boolean {
    return this.stopped;
  }

  /** Ends a wait early: a batch is ready, or a flush or close wants the buffer sent. */
  wakeUp(): void {
    this.wake?.();
  }

  /** Resolves once everything buffered so far was sent (or shed), or `timeoutMs` passed. */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.wakeUp();
    while (this.buffer.length + this.inFlight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      this.wakeUp();
    }
  }

  /** Sheds what is still buffered and waits for the pump to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.buffer.shedAll();
    this.wakeUp();
    await this.pumping;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const { buffer, sender } = this;
    const { batchMs, batchMax, log } = this.options;
    while (!this.stopped || buffer.length > 0) {
      if (buffer.length === 0) {
        if (this.stopped) break;
        await this.sleep(batchMs);
        continue;
      }
      const batch = buffer.take(batchMax);
      if (batch.length === 0) {
        // The front is held (a carousel still being completed): wait for it as for a partial batch.
        if (this.stopped) break;
        await this.sleep(batchMs);
        continue;
      }
      this.inFlight = batch.length;
      this.unsentSince ??= Date.now();
      let failed: unknown = null;
      try {
        await sender.send(batch);
      } catch (error) {
        failed = error;
      }
      this.inFlight = 0;
      if (failed === null) {
        for (const event of batch) event.settled?.(true);
        this.unsentSince = null;
        if (this.failures > 0) log.info({ after: this.failures }, 'Kafka accepts events again');
        this.failures = 0;
      } else {
        this.sendFailures++;
        this.failures++;
        sender.connected = false;
        buffer.requeue(failed instanceof SendFailure ? failed.unsent : batch);
        if (this.failures === 1 || this.failures % 20 === 0) {
          log.error(
            { err: failed, queued: buffer.length, failures: this.failures },
            'sending events to Kafka failed; holding them',
          );
        }
        if (this.stopped) break;
        await this.sleep(Math.min(2000, 50 * 2 ** Math.min(this.failures, 6)));
        continue;
      }
      if (buffer.length < batchMax && !this.stopped) await this.sleep(batchMs);
    }
  }
}
