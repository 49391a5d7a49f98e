/**
 * Idempotent-producer state of one partition: per producer id, its epoch, the last five batches' sequence
 * ranges (to answer a retried batch with its original offset) and its open transaction, if any.
 */
import { ErrorCode } from '../protocol/error-codes.ts';

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
}

export interface ProducerEntry {
  epoch: number;
  batches: BatchMetadata[];
  /** First offset of the producer's open transaction in this partition, or -1. */
  txnFirstOffset: number;
}

export const MAX_REMEMBERED_BATCHES = 5;
const INT32_MAX = 2147483647;

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number }
  | { kind: 'error'; errorCode: number; message: string };

export function nextSequence(seq: number, delta = 1): number {
  const n = seq + delta;
  return n > INT32_MAX ? n - INT32_MAX - 1 : n;
}

export class ProducerStateTable {
  readonly producers = new Map<number, ProducerEntry>();

  /** Decides what to do with a batch from (producerId, epoch) starting at `firstSeq`. */
  check(producerId: number, epoch: number, firstSeq: number, lastSeq: number): SequenceCheck {
    const entry = this.producers.get(producerId);
    // A producer this partition holds no state of may start at any sequence, as on Kafka (2.5 on): its earlier
    // batches are gone with a topic deleted and made again, and refusing it would stop its sends for good.
    if (!entry) return { kind: 'append' };
    if (epoch < entry.epoch) {
      return {
        kind: 'error',
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        message: `producer ${producerId} epoch ${epoch} is older than ${entry.epoch}`,
      };
    }
    if (epoch > entry.epoch || entry.batches.length === 0) {
      if (firstSeq !== 0) {
        return {
          kind: 'error',
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          message: `producer ${producerId} epoch ${epoch} must start at sequence 0, got ${firstSeq}`,
        };
      }
      return { kind: 'append' };
    }
    for (const b of entry.batches) {
      if (b.firstSeq === firstSeq && b.lastSeq === lastSeq)
        return { kind: 'duplicate', baseOffset: b.baseOffset };
    }
    const last = entry.batches[entry.batches.length - 1]!;
    if (firstSeq !== nextSequence(last.lastSeq)) {
      return {
        kind: 'error',
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `producer ${producerId}: expected sequence ${nextSequence(last.lastSeq)}, got ${firstSeq}`,
      };
    }
    return { kind: 'append' };
  }

  record(producerId: number, epoch: number, batch: BatchMetadata): ProducerEntry {
    let entry = this.producers.get(producerId);
    if (!entry) {
      entry = { epoch, batches: [], txnFirstOffset: -1 };
      this.producers.set(producerId, entry);
    } else if (epoch > entry.epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.batches.push(batch);
    if (entry.batches.length > MAX_REMEMBERED_BATCHES) entry.batches.shift();
    return entry;
  }

  /** A transaction marker from `epoch` (possibly a bumped epoch): sequences restart on a new epoch. */
  marker(producerId: number, epoch: number): ProducerEntry {
    let entry = this.producers.get(producerId);
    if (!entry) {
      entry = { epoch, batches: [], txnFirstOffset: -1 };
      this.producers.set(producerId, entry);
    } else if (epoch > entry.epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    return entry;
  }
}
