/** DeleteTopics v1: the v0 request; throttle_time_ms:INT32 first in the response. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from './types.ts';
import { decodeDeleteTopics, encodeResponses } from './v0.ts';

export const deleteTopicsV1 = codec<DeleteTopicsRequest, DeleteTopicsResponse>(
  ApiKey.DeleteTopics,
  1,
  decodeDeleteTopics,
  (e, r) => {
    e.int32(r.throttleTimeMs);
    encodeResponses(e, r);
  },
);
