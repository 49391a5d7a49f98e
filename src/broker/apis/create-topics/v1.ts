/** CreateTopics v1: validate_only in the request, error_message in the response. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeCreateTopicsRequest, encodeCreateTopicsResponse } from './layout.ts';
import type { CreateTopicsRequest, CreateTopicsResponse } from './types.ts';

export const createTopicsV1 = codec<CreateTopicsRequest, CreateTopicsResponse>(
  ApiKey.CreateTopics,
  1,
  (d) => decodeCreateTopicsRequest(d, 1),
  (e, r) => encodeCreateTopicsResponse(e, r, 1),
);
