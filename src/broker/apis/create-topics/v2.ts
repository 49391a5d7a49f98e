/** CreateTopics v2: throttle_time_ms first in the response. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeCreateTopicsRequest, encodeCreateTopicsResponse } from './layout.ts';
import type { CreateTopicsRequest, CreateTopicsResponse } from './types.ts';

export const createTopicsV2 = codec<CreateTopicsRequest, CreateTopicsResponse>(
  ApiKey.CreateTopics,
  2,
  (d) => decodeCreateTopicsRequest(d, 2),
  (e, r) => encodeCreateTopicsResponse(e, r, 2),
);
