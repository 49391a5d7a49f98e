/**
 * Kafka offset commits of the topology, for lag monitoring only (Redis holds the truth): the newest applied
 * offset of each partition is noted as batches are applied and committed every `stream.commitIntervalMs`.
 */
import type { Consumer } from 'kafkajs';
import type { Logger } from '../../src/log/logger.ts';

interface PendingCommit {
  topic: string;
  partition: number;
  offset: string;
}

export class OffsetCommits {
  private readonly pending = new Map<string, PendingCommit>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly consumer: Consumer,
    private readonly logger: Logger,
  ) {}

  /** Notes the next offset to commit for partition `key`. */
  note(key: string, commit: PendingCommit): void {
    this.pending.set(key, commit);
  }

  /** Commits what was noted every `intervalMs` until `stop`. */
  every(intervalMs: number): void {
    this.timer = setInterval(() => void this.commit(), intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  async commit(): Promise<void> {
    if (this.pending.size === 0) return;
    const offsets = [...this.pending.values()];
    this.pending.clear();
    await this.consumer.commitOffsets(offsets).catch((error: unknown) => {
      this.logger.debug(
        { err: error },
        'offset commit for lag monitoring failed (a rebalance); Redis holds the truth',
      );
    });
  }
}
