/**
 * Fetch: reads whole batches per partition (up to the high watermark, or the last stable offset for
 * read_committed, which also gets the aborted transactions of the range), and long-polls up to max_wait_ms
 * until min_bytes are there. A waiting Fetch holds only its own connection (the connection answers in order).
 */

import type { FetchPartitionResponse, FetchRequest, FetchResponse } from '../apis/fetch/types.ts';
import type { BrokerState, RequestContext } from '../broker-state.ts';
import type { Partition } from '../log/partition.ts';
import { ErrorCode } from '../protocol/error-codes.ts';

interface Waiter {
  partitions: Set<Partition>;
  check: () => void;
}

export class FetchHandler {
  private readonly broker: BrokerState;
  private readonly waiters = new Set<Waiter>();
  private readonly dirty = new Set<Waiter>();
  private scheduled = false;

  constructor(broker: BrokerState) {
    this.broker = broker;
  }

  handle(req: FetchRequest, ctx: RequestContext): FetchResponse | Promise<FetchResponse> {
    const first = this.read(req);
    if (first.bytes >= req.minBytes || req.maxWaitMs <= 0 || first.error || first.partitions.size === 0) {
      return first.response;
    }
    return new Promise<FetchResponse>((resolve) => {
      let done = false;
      const finish = (response: FetchResponse | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        this.waiters.delete(waiter);
        this.dirty.delete(waiter);
        resolve(response ?? this.read(req).response);
      };
      const waiter: Waiter = {
        partitions: first.partitions,
        check: () => {
          const again = this.read(req);
          if (again.bytes >= req.minBytes || again.error) finish(again.response);
        },
      };
      const timer = setTimeout(() => finish(null), req.maxWaitMs);
      this.waiters.add(waiter);
      const unsubscribe = ctx.onClose(() => finish(first.response));
    });
  }

  /** One pass over the requested partitions. */
  private read(req: FetchRequest): {
    response: FetchResponse;
    bytes: number;
    error: boolean;
    partitions: Set<Partition>;
  } {
    let total = 0;
    let error = false;
    const partitions = new Set<Partition>();
    const committed = req.isolationLevel === 1;
    const maxBytes = req.maxBytes > 0 ? req.maxBytes : Number.MAX_SAFE_INTEGER;
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((fp): FetchPartitionResponse => {
        const p = this.broker.partition(t.name, fp.index);
        if (!p) {
          error = true;
          return {
            index: fp.index,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            highWatermark: -1,
            lastStableOffset: -1,
            logStartOffset: -1,
            abortedTransactions: committed ? [] : null,
            preferredReadReplica: -1,
            records: [],
          };
        }
        partitions.add(p);
        const hw = p.highWatermark;
        const lso = p.lastStableOffset();
        const out: FetchPartitionResponse = {
          index: fp.index,
          errorCode: ErrorCode.NONE,
          highWatermark: hw,
          lastStableOffset: lso,
          logStartOffset: p.logStartOffset,
          abortedTransactions: committed ? [] : null,
          preferredReadReplica: -1,
          records: [],
        };
        if (fp.fetchOffset < p.logStartOffset || fp.fetchOffset > hw) {
          error = true;
          out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
          return out;
        }
        const limit = committed ? lso : hw;
        const budget = Math.min(fp.partitionMaxBytes, maxBytes - total);
        const { batches, bytes } = p.read(fp.fetchOffset, Math.max(0, budget), limit, total === 0);
        if (batches.length === 0) return out;
        out.records = batches;
        total += bytes;
        if (committed && p.aborted.length > 0) {
          const last = batches[batches.length - 1]!;
          const lastOffset = last.readInt32BE(0) * 4294967296 + last.readUInt32BE(4) + last.readInt32BE(23);
          out.abortedTransactions = p.abortedBetween(fp.fetchOffset, lastOffset);
        }
        return out;
      }),
    }));
    return {
      response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, topics },
      bytes: total,
      error,
      partitions,
    };
  }

  /** A partition got new data (or a marker moved its last stable offset). */
  partitionChanged(p: Partition): void {
    if (this.waiters.size === 0) return;
    for (const w of this.waiters) if (w.partitions.has(p)) this.dirty.add(w);
    this.schedule();
  }

  wakeAll(): void {
    for (const w of this.waiters) this.dirty.add(w);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.dirty.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const ready = [...this.dirty];
      this.dirty.clear();
      for (const w of ready) w.check();
    });
  }

  close(): void {
    for (const w of [...this.waiters]) w.check();
    this.waiters.clear();
  }
}
