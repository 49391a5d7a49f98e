/**
 * Transaction coordinator: transactional ids → (producer id, epoch, state, partitions, groups).
 *
 * Single node, so the two-phase commit is synchronous: EndTxn writes the commit/abort markers to every
 * partition of the transaction and completes at once (PrepareCommit/PrepareAbort are never observable).
 * InitProducerId fences: it bumps the epoch and, when a transaction is open, aborts it with the new epoch.
 * Transactions older than their timeout are aborted the same way (with an epoch bump) by a timer.
 */

import type { Partition } from '../log/partition.ts';
import { ErrorCode } from '../protocol/error-codes.ts';
import { ControlType } from '../protocol/record-batch.ts';

export type TxnState =
  | 'Empty'
  | 'Ongoing'
  | 'PrepareCommit'
  | 'PrepareAbort'
  | 'CompleteCommit'
  | 'CompleteAbort';

export interface PendingOffset {
  offset: number;
  metadata: string | null;
}

export interface TxnMetadata {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  startTime: number;
  /** `topic` → partition indexes in the open transaction. */
  partitions: Map<string, Set<number>>;
  groups: Set<string>;
  /** group → topic → partition → offset, applied on commit. */
  pendingOffsets: Map<string, Map<string, Map<number, PendingOffset>>>;
}

/** What a transaction record persists (data-dir mode). */
export interface TxnSnapshot {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  startTime: number;
  partitions: [string, number[]][];
  groups: string[];
}

export interface TxnCoordinatorOptions {
  maxTimeoutMs: number;
  getPartition: (topic: string, index: number) => Partition | undefined;
  commitOffset: (
    groupId: string,
    topic: string,
    partition: number,
    offset: number,
    metadata: string | null,
  ) => void;
  /** Persists the coordinator's state (data-dir mode). */
  persist?: (snapshot: TxnSnapshot) => void;
  persistProducerIdBlock?: (next: number) => void;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

const MAX_EPOCH = 32766;

export class TxnCoordinator {
  private readonly txns = new Map<string, TxnMetadata>();
  /** producer id → transactional id (to verify transactional produce requests). */
  private readonly byProducerId = new Map<number, TxnMetadata>();
  private nextProducerId = 1000;
  private readonly options: TxnCoordinatorOptions;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: TxnCoordinatorOptions) {
    this.options = options;
    this.timer = setInterval(() => this.expireTransactions(Date.now()), 1000);
    this.timer.unref();
  }

  setNextProducerId(next: number): void {
    this.nextProducerId = Math.max(this.nextProducerId, next);
  }

  allocateProducerId(): number {
    const id = this.nextProducerId++;
    this.options.persistProducerIdBlock?.(this.nextProducerId);
    return id;
  }

  restore(snapshot: TxnSnapshot): void {
    const meta: TxnMetadata = {
      transactionalId: snapshot.transactionalId,
      producerId: snapshot.producerId,
      producerEpoch: snapshot.producerEpoch,
      timeoutMs: snapshot.timeoutMs,
      state: snapshot.state,
      startTime: snapshot.startTime,
      partitions: new Map(snapshot.partitions.map(([t, ps]) => [t, new Set(ps)])),
      groups: new Set(snapshot.groups),
      pendingOffsets: new Map(),
    };
    const old = this.txns.get(meta.transactionalId);
    if (old) this.byProducerId.delete(old.producerId);
    this.txns.set(meta.transactionalId, meta);
    this.byProducerId.set(meta.producerId, meta);
    if (meta.producerId >= this.nextProducerId) this.nextProducerId = meta.producerId + 1;
  }

  private save(meta: TxnMetadata): void {
    this.options.persist?.({
      transactionalId: meta.transactionalId,
      producerId: meta.producerId,
      producerEpoch: meta.producerEpoch,
      timeoutMs: meta.timeoutMs,
      state: meta.state,
      startTime: meta.startTime,
      partitions: [...meta.partitions].map(([t, ps]) => [t, [...ps]]),
      groups: [...meta.groups],
    });
  }

  initProducerId(
    transactionalId: string | null,
    timeoutMs: number,
  ): { errorCode: number; producerId: number; producerEpoch: number } {
    const fail = (errorCode: number) => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (transactionalId === null)
      return { errorCode: ErrorCode.NONE, producerId: this.allocateProducerId(), producerEpoch: 0 };
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST);
    if (timeoutMs <= 0 || timeoutMs > this.options.maxTimeoutMs)
      return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let meta = this.txns.get(transactionalId);
    if (!meta) {
      meta = {
        transactionalId,
        producerId: this.allocateProducerId(),
        producerEpoch: 0,
        timeoutMs,
        state: 'Empty',
        startTime: -1,
        partitions: new Map(),
        groups: new Set(),
        pendingOffsets: new Map(),
      };
      this.txns.set(transactionalId, meta);
      this.byProducerId.set(meta.producerId, meta);
      this.save(meta);
      return { errorCode: ErrorCode.NONE, producerId: meta.producerId, producerEpoch: 0 };
    }
    meta.timeoutMs = timeoutMs;
    if (meta.state === 'Ongoing') {
      // Fence the previous producer: abort its transaction with a bumped epoch.
      this.bumpEpoch(meta);
      this.complete(meta, false, 'fenced by InitProducerId');
    } else {
      this.bumpEpoch(meta);
      meta.state = 'Empty';
      this.save(meta);
    }
    return { errorCode: ErrorCode.NONE, producerId: meta.producerId, producerEpoch: meta.producerEpoch };
  }

  private bumpEpoch(meta: TxnMetadata): void {
    if (meta.producerEpoch >= MAX_EPOCH) {
      // Epoch exhausted: a fresh producer id. Markers for an open transaction still use the old id.
      if (meta.state === 'Ongoing') {
        meta.producerEpoch++;
        return;
      }
      this.byProducerId.delete(meta.producerId);
      meta.producerId = this.allocateProducerId();
      meta.producerEpoch = 0;
      this.byProducerId.set(meta.producerId, meta);
      return;
    }
    meta.producerEpoch++;
  }

  private check(transactionalId: string, producerId: number, epoch: number): TxnMetadata | number {
    const meta = this.txns.get(transactionalId);
    if (!meta || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (meta.producerEpoch !== epoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort')
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    return meta;
  }

  private begin(meta: TxnMetadata, now: number): void {
    if (meta.state !== 'Ongoing') {
      meta.state = 'Ongoing';
      meta.startTime = now;
      meta.partitions.clear();
      meta.groups.clear();
      meta.pendingOffsets.clear();
    }
  }

  addPartitions(
    transactionalId: string,
    producerId: number,
    epoch: number,
    topics: { name: string; partitions: number[] }[],
  ): { name: string; results: { partitionIndex: number; errorCode: number }[] }[] {
    const all = (code: (t: string, p: number) => number) =>
      topics.map((t) => ({
        name: t.name,
        results: t.partitions.map((p) => ({ partitionIndex: p, errorCode: code(t.name, p) })),
      }));
    const meta = this.check(transactionalId, producerId, epoch);
    if (typeof meta === 'number') return all(() => meta);
    const unknown = topics.some((t) => t.partitions.some((p) => !this.options.getPartition(t.name, p)));
    if (unknown) {
      return all((t, p) =>
        this.options.getPartition(t, p)
          ? ErrorCode.OPERATION_NOT_ATTEMPTED
          : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      );
    }
    this.begin(meta, Date.now());
    for (const t of topics) {
      let set = meta.partitions.get(t.name);
      if (!set) {
        set = new Set();
        meta.partitions.set(t.name, set);
      }
      for (const p of t.partitions) set.add(p);
    }
    this.save(meta);
    return all(() => ErrorCode.NONE);
  }

  addOffsets(transactionalId: string, producerId: number, epoch: number, groupId: string): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const meta = this.check(transactionalId, producerId, epoch);
    if (typeof meta === 'number') return meta;
    this.begin(meta, Date.now());
    meta.groups.add(groupId);
    this.save(meta);
    return ErrorCode.NONE;
  }

  txnOffsetCommit(
    transactionalId: string,
    groupId: string,
    producerId: number,
    epoch: number,
    topic: string,
    partition: number,
    value: PendingOffset,
  ): number {
    const meta = this.check(transactionalId, producerId, epoch);
    if (typeof meta === 'number') return meta;
    if (meta.state !== 'Ongoing' || !meta.groups.has(groupId)) return ErrorCode.INVALID_TXN_STATE;
    if (!this.options.getPartition(topic, partition)) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    let byTopic = meta.pendingOffsets.get(groupId);
    if (!byTopic) {
      byTopic = new Map();
      meta.pendingOffsets.set(groupId, byTopic);
    }
    let byPartition = byTopic.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      byTopic.set(topic, byPartition);
    }
    byPartition.set(partition, value);
    return ErrorCode.NONE;
  }

  endTxn(transactionalId: string, producerId: number, epoch: number, commit: boolean): number {
    const meta = this.check(transactionalId, producerId, epoch);
    if (typeof meta === 'number') return meta;
    switch (meta.state) {
      case 'Ongoing':
        this.complete(meta, commit, commit ? 'commit' : 'abort');
        return ErrorCode.NONE;
      case 'CompleteCommit':
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case 'CompleteAbort':
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
  }

  /** Writes the markers, applies or drops the pending offsets and completes the transaction. */
  private complete(meta: TxnMetadata, commit: boolean, reason: string): void {
    const now = Date.now();
    meta.state = commit ? 'PrepareCommit' : 'PrepareAbort';
    this.save(meta);
    for (const [topic, set] of meta.partitions) {
      for (const p of set) {
        const partition = this.options.getPartition(topic, p);
        partition?.writeMarker(
          meta.producerId,
          meta.producerEpoch,
          commit ? ControlType.COMMIT : ControlType.ABORT,
          now,
        );
      }
    }
    if (commit) {
      for (const [groupId, byTopic] of meta.pendingOffsets) {
        for (const [topic, byPartition] of byTopic) {
          for (const [p, v] of byPartition)
            this.options.commitOffset(groupId, topic, p, v.offset, v.metadata);
        }
      }
    }
    meta.pendingOffsets.clear();
    meta.partitions.clear();
    meta.groups.clear();
    meta.state = commit ? 'CompleteCommit' : 'CompleteAbort';
    this.save(meta);
    this.options.log?.('transaction completed', {
      transactionalId: meta.transactionalId,
      producerId: meta.producerId,
      epoch: meta.producerEpoch,
      reason,
    });
  }

  /**
   * For a transactional batch arriving at a partition: is (producerId, epoch) the current producer of an
   * open transaction? Fenced producers get INVALID_PRODUCER_EPOCH.
   */
  verifyProducer(producerId: number, epoch: number): number {
    const meta = this.byProducerId.get(producerId);
    if (!meta) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (epoch !== meta.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (meta.state !== 'Ongoing') return ErrorCode.INVALID_TXN_STATE;
    return ErrorCode.NONE;
  }

  /** Is (topic, partition) part of `producerId`'s open transaction? */
  inTransaction(producerId: number, topic: string, partition: number): boolean {
    return this.byProducerId.get(producerId)?.partitions.get(topic)?.has(partition) ?? false;
  }

  /** Aborts (with an epoch bump) transactions open for longer than their timeout. */
  expireTransactions(now: number): void {
    for (const meta of this.txns.values()) {
      if (meta.state === 'Ongoing' && now - meta.startTime > meta.timeoutMs) {
        this.bumpEpoch(meta);
        this.complete(meta, false, 'transaction timed out');
      }
    }
  }

  /** Completes transactions a crash left in a prepare state (data-dir recovery). */
  recoverPrepared(): void {
    for (const meta of this.txns.values()) {
      if (meta.state === 'PrepareCommit') this.complete(meta, true, 'recovered');
      else if (meta.state === 'PrepareAbort') this.complete(meta, false, 'recovered');
    }
  }

  describe(transactionalId: string): TxnMetadata | undefined {
    return this.txns.get(transactionalId);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
