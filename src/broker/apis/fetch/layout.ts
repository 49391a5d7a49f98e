/**
 * The Fetch fields by version, shared by the per-version codecs (v4..v11):
 * Request  => replica_id:INT32 max_wait_ms:INT32 min_bytes:INT32 max_bytes:INT32 isolation_level:INT8
 *             session_id:INT32 (v7+) session_epoch:INT32 (v7+)
 *             [topics => topic:STRING [partitions => partition:INT32 current_leader_epoch:INT32 (v9+)
 *               fetch_offset:INT64 log_start_offset:INT64 (v5+) partition_max_bytes:INT32]]
 *             [forgotten_topics_data (v7+) => topic:STRING [partitions:INT32]]
 *             rack_id:STRING (v11+)
 * Response => throttle_time_ms:INT32 error_code:INT16 (v7+) session_id:INT32 (v7+)
 *             [responses => topic:STRING [partitions => partition_index:INT32 error_code:INT16
 *               high_watermark:INT64 last_stable_offset:INT64 log_start_offset:INT64 (v5+)
 *               aborted_transactions:NULLABLE[producer_id:INT64 first_offset:INT64]
 *               preferred_read_replica:INT32 (v11+) records:RECORDS]]
 */
import type { Decoder } from '../../protocol/decoder.ts';
import type { Encoder } from '../../protocol/encoder.ts';
import type { FetchPartitionResponse, FetchRequest, FetchResponse } from './types.ts';

export function decodeFetchRequest(d: Decoder, version: number): FetchRequest {
  const replicaId = d.int32();
  const maxWaitMs = d.int32();
  const minBytes = d.int32();
  const maxBytes = d.int32();
  const isolationLevel = d.int8();
  const sessionId = version >= 7 ? d.int32() : 0;
  const sessionEpoch = version >= 7 ? d.int32() : -1;
  const topics = d.array((t) => ({
    name: t.string(),
    partitions: t.array((p) => ({
      index: p.int32(),
      currentLeaderEpoch: version >= 9 ? p.int32() : -1,
      fetchOffset: p.int64(),
      logStartOffset: version >= 5 ? p.int64() : -1,
      partitionMaxBytes: p.int32(),
    })),
  }));
  const forgottenTopics =
    version >= 7 ? d.array((t) => ({ name: t.string(), partitions: t.array((p) => p.int32()) })) : [];
  const rackId = version >= 11 ? d.string() : '';
  return {
    replicaId,
    maxWaitMs,
    minBytes,
    maxBytes,
    isolationLevel,
    sessionId,
    sessionEpoch,
    topics,
    forgottenTopics,
    rackId,
  };
}

export function encodeFetchResponse(e: Encoder, r: FetchResponse, version: number): void {
  e.int32(r.throttleTimeMs);
  if (version >= 7) e.int16(r.errorCode).int32(r.sessionId);
  e.array(r.topics, (e, t) => {
    e.string(t.name);
    e.array(t.partitions, (e, p: FetchPartitionResponse) => {
      e.int32(p.index).int16(p.errorCode).int64(p.highWatermark).int64(p.lastStableOffset);
      if (version >= 5) e.int64(p.logStartOffset);
      e.nullableArray(p.abortedTransactions, (e, a) => e.int64(a.producerId).int64(a.firstOffset));
      if (version >= 11) e.int32(p.preferredReadReplica);
      let size = 0;
      for (const b of p.records) size += b.length;
      e.int32(size);
      for (const b of p.records) e.raw(b);
    });
  });
}
