/** ListGroups v1: empty request; throttle_time_ms:INT32 first in the response. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { ListGroupsRequest, ListGroupsResponse } from './types.ts';
import { encodeListGroupsBody } from './v0.ts';

export const listGroupsV1 = codec<ListGroupsRequest, ListGroupsResponse>(
  ApiKey.ListGroups,
  1,
  () => ({}),
  (e, r) => {
    e.int32(r.throttleTimeMs);
    encodeListGroupsBody(e, r);
  },
);
