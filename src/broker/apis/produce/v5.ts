/**
 * Produce v5: the v3 request; the response adds log_start_offset:INT64 after log_append_time_ms.
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { ProduceRequest, ProduceResponse } from './types.ts';
import { decodeProduceRequest, encodeProduceResponse } from './v3.ts';

export const produceV5 = codec<ProduceRequest, ProduceResponse>(
  ApiKey.Produce,
  5,
  decodeProduceRequest,
  (e, r) => encodeProduceResponse(e, r, true),
);
