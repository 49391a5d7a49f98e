/**
 * AddPartitionsToTxn v0
 * Request  => transactional_id:STRING producer_id:INT64 producer_epoch:INT16
 *             [topics => name:STRING [partitions:INT32]]
 * Response => throttle_time_ms:INT32 [results => name:STRING [results => partition_index:INT32
 *             error_code:INT16]]
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { AddPartitionsToTxnRequest, AddPartitionsToTxnResponse } from './types.ts';

export const addPartitionsToTxnV0 = codec<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>(
  ApiKey.AddPartitionsToTxn,
  0,
  (d) => ({
    transactionalId: d.string(),
    producerId: d.int64(),
    producerEpoch: d.int16(),
    topics: d.array((t) => ({ name: t.string(), partitions: t.array((p) => p.int32()) })),
  }),
  (e, r) => {
    e.int32(r.throttleTimeMs);
    e.array(r.results, (e, t) => {
      e.string(t.name);
      e.array(t.results, (e, p) => e.int32(p.partitionIndex).int16(p.errorCode));
    });
  },
);
