/**
 * InitProducerId v0
 * Request  => transactional_id:NULLABLE_STRING transaction_timeout_ms:INT32
 * Response => throttle_time_ms:INT32 error_code:INT16 producer_id:INT64 producer_epoch:INT16
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { InitProducerIdRequest, InitProducerIdResponse } from './types.ts';

export const initProducerIdV0 = codec<InitProducerIdRequest, InitProducerIdResponse>(
  ApiKey.InitProducerId,
  0,
  (d) => ({ transactionalId: d.nullableString(), transactionTimeoutMs: d.int32() }),
  (e, r) => {
    e.int32(r.throttleTimeMs).int16(r.errorCode).int64(r.producerId).int16(r.producerEpoch);
  },
);
