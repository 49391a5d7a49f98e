/** CreateTopics v0: topics and timeout; the response has name and error code. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeCreateTopicsRequest, encodeCreateTopicsResponse } from './layout.ts';
import type { CreateTopicsRequest, CreateTopicsResponse } from './types.ts';

export const createTopicsV0 = codec<CreateTopicsRequest, CreateTopicsResponse>(
  ApiKey.CreateTopics,
  0,
  (d) => decodeCreateTopicsRequest(d, 0),
  (e, r) => encodeCreateTopicsResponse(e, r, 0),
);
