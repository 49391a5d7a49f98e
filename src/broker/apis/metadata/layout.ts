/**
 * The Metadata fields by version (v0..v4):
 * Request  => [topics:STRING] (v0: empty means all; v1+: nullable, null means all)
 *             allow_auto_topic_creation:BOOLEAN (v4+)
 * Response => throttle_time_ms:INT32 (v3+) [brokers => node_id:INT32 host:STRING port:INT32
 *             rack:NULLABLE_STRING (v1+)] cluster_id:NULLABLE_STRING (v2+) controller_id:INT32 (v1+)
 *             [topics => error_code:INT16 name:STRING is_internal:BOOLEAN (v1+) [partitions => error_code:INT16
 *               partition_index:INT32 leader_id:INT32 [replica_nodes:INT32] [isr_nodes:INT32]]]
 */
import type { Decoder } from '../../protocol/decoder.ts';
import type { Encoder } from '../../protocol/encoder.ts';
import type { MetadataRequest, MetadataResponse } from './types.ts';

export function decodeMetadataRequest(d: Decoder, version: number): MetadataRequest {
  let topics: string[] | null;
  if (version === 0) {
    topics = d.array((t) => t.string());
    if (topics.length === 0) topics = null;
  } else {
    topics = d.nullableArray((t) => t.string());
  }
  const allowAutoTopicCreation = version >= 4 ? d.bool() : true;
  return { topics, allowAutoTopicCreation };
}

export function encodeMetadataResponse(e: Encoder, r: MetadataResponse, version: number): void {
  if (version >= 3) e.int32(r.throttleTimeMs);
  e.array(r.brokers, (e, b) => {
    e.int32(b.nodeId).string(b.host).int32(b.port);
    if (version >= 1) e.nullableString(b.rack);
  });
  if (version >= 2) e.nullableString(r.clusterId);
  if (version >= 1) e.int32(r.controllerId);
  e.array(r.topics, (e, t) => {
    e.int16(t.errorCode).string(t.name);
    if (version >= 1) e.bool(t.isInternal);
    e.array(t.partitions, (e, p) => {
      e.int16(p.errorCode).int32(p.index).int32(p.leaderId);
      e.array(p.replicaNodes, (e, n) => e.int32(n));
      e.array(p.isrNodes, (e, n) => e.int32(n));
    });
  });
}
