/**
 * EndTxn v0
 * Request  => transactional_id:STRING producer_id:INT64 producer_epoch:INT16 committed:BOOLEAN
 * Response => throttle_time_ms:INT32 error_code:INT16
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { EndTxnRequest, EndTxnResponse } from './types.ts';

export const endTxnV0 = codec<EndTxnRequest, EndTxnResponse>(
  ApiKey.EndTxn,
  0,
  (d) => ({
    transactionalId: d.string(),
    producerId: d.int64(),
    producerEpoch: d.int16(),
    committed: d.bool(),
  }),
  (e, r) => {
    e.int32(r.throttleTimeMs).int16(r.errorCode);
  },
);
