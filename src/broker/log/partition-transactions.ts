/**
 * The transactional side of one topic-partition: idempotent producers' sequence state, the transactions open
 * here (which hold the last stable offset back) and the index of aborted transactions that read_committed
 * fetches return. The partition's log (partition.ts) assigns offsets and stores batches; this decides whether
 * a producer's batch may be appended and keeps the bookkeeping of each append, marker and recovered batch.
 */
import { ErrorCode } from '../protocol/error-codes.ts';
import type { BatchHeader } from '../protocol/record-batch.ts';
import { nextSequence, ProducerStateTable } from './producer-state.ts';

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  /** Offset of the abort marker. */
  lastOffset: number;
}

/** Header fields of a recovered batch that producer-state replay needs. */
export interface RecoveredBatchInfo {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  attributes: number;
  /** -1 for data batches, 0 abort, 1 commit. */
  controlType: number;
}

/** Verifies a transactional batch against the transaction coordinator (returns an error code or NONE). */
export type TxnVerifier = (producerId: number, epoch: number) => number;

/** Whether a producer's batch may be appended: refused, already appended (a retry), or to append. */
export type AppendCheck =
  | { kind: 'refused'; errorCode: number; message: string }
  | { kind: 'duplicate'; baseOffset: number }
  | { kind: 'append'; lastSeq: number };

const TRANSACTIONAL = 0x10;

export class PartitionTransactions {
  readonly producers = new ProducerStateTable();
  /** producer id → first offset of its open transaction here. */
  readonly ongoing = new Map<number, number>();
  aborted: AbortedTxn[] = [];

  /** The first offset of the oldest open transaction, or `logEnd` when none is open. */
  lastStableOffset(logEnd: number): number {
    let lso = logEnd;
    for (const first of this.ongoing.values()) if (first < lso) lso = first;
    return lso;
  }

  /** Checks a batch of producer `header.producerId` (≥ 0): its epoch, its sequence and its transaction. */
  check(header: BatchHeader, verifyTxn?: TxnVerifier): AppendCheck {
    const pid = header.producerId;
    const transactional = (header.attributes & TRANSACTIONAL) !== 0;
    if (transactional && verifyTxn) {
      const err = verifyTxn(pid, header.producerEpoch);
      if (err !== ErrorCode.NONE) return { kind: 'refused', errorCode: err, message: 'transaction check' };
    }
    const lastSeq = nextSequence(header.baseSequence, header.lastOffsetDelta);
    const check = this.producers.check(pid, header.producerEpoch, header.baseSequence, lastSeq);
    if (check.kind === 'duplicate') return { kind: 'duplicate', baseOffset: check.baseOffset };
    if (check.kind === 'error')
      return { kind: 'refused', errorCode: check.errorCode, message: check.message };
    const current = this.producers.producers.get(pid);
    if (!transactional && current && current.txnFirstOffset >= 0 && header.producerEpoch === current.epoch) {
      return {
        kind: 'refused',
        errorCode: ErrorCode.INVALID_TXN_STATE,
        message: 'non-transactional batch while a transaction is open',
      };
    }
    return { kind: 'append', lastSeq };
  }

  /** A producer's batch was appended at `baseOffset` to `lastOffset` (checked first, or recovered from disk). */
  appended(
    producerId: number,
    epoch: number,
    attributes: number,
    batch: { firstSeq: number; lastSeq: number; baseOffset: number; lastOffset: number },
  ): void {
    const entry = this.producers.record(producerId, epoch, batch);
    if ((attributes & TRANSACTIONAL) !== 0 && entry.txnFirstOffset < 0) {
      entry.txnFirstOffset = batch.baseOffset;
      this.ongoing.set(producerId, batch.baseOffset);
    }
  }

  /** A commit (1) or abort (0) marker of `producerId` is at `markerOffset`: its transaction here is closed. */
  marked(producerId: number, epoch: number, type: number, markerOffset: number): void {
    const entry = this.producers.marker(producerId, epoch);
    if (entry.txnFirstOffset < 0) return;
    if (type === 0)
      this.aborted.push({ producerId, firstOffset: entry.txnFirstOffset, lastOffset: markerOffset });
    entry.txnFirstOffset = -1;
    this.ongoing.delete(producerId);
  }

  /** Replays a batch recovered from disk (offsets `baseOffset` to `lastOffset`), as its append did. */
  replay(batch: RecoveredBatchInfo, baseOffset: number, lastOffset: number): void {
    const pid = batch.producerId;
    if (pid < 0) return;
    if (batch.controlType >= 0) {
      this.marked(pid, batch.producerEpoch, batch.controlType, baseOffset);
      return;
    }
    this.appended(pid, batch.producerEpoch, batch.attributes, {
      firstSeq: batch.baseSequence,
      lastSeq: nextSequence(batch.baseSequence, lastOffset - baseOffset),
      baseOffset,
      lastOffset,
    });
  }

  /** Aborted transactions overlapping [from, to], sorted by first offset. */
  abortedBetween(from: number, to: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (const a of this.aborted) if (a.lastOffset >= from && a.firstOffset <= to) out.push(a);
    out.sort((a, b) => a.firstOffset - b.firstOffset);
    return out;
  }

  /** The log now starts at `logStart`: aborted transactions that ended before it are forgotten. */
  dropAbortedBefore(logStart: number): void {
    this.aborted = this.aborted.filter((a) => a.lastOffset >= logStart);
  }
}
