/**
 * AddOffsetsToTxn v0
 * Request  => transactional_id:STRING producer_id:INT64 producer_epoch:INT16 group_id:STRING
 * Response => throttle_time_ms:INT32 error_code:INT16
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from './types.ts';

export const addOffsetsToTxnV0 = codec<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>(
  ApiKey.AddOffsetsToTxn,
  0,
  (d) => ({
    transactionalId: d.string(),
    producerId: d.int64(),
    producerEpoch: d.int16(),
    groupId: d.string(),
  }),
  (e, r) => {
    e.int32(r.throttleTimeMs).int16(r.errorCode);
  },
);
