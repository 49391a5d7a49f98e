/** CreateTopics v3: the v2 layout (throttling semantics). See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeCreateTopicsRequest, encodeCreateTopicsResponse } from './layout.ts';
import type { CreateTopicsRequest, CreateTopicsResponse } from './types.ts';

export const createTopicsV3 = codec<CreateTopicsRequest, CreateTopicsResponse>(
  ApiKey.CreateTopics,
  3,
  (d) => decodeCreateTopicsRequest(d, 3),
  (e, r) => encodeCreateTopicsResponse(e, r, 3),
);
