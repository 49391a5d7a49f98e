/** JoinGroup v2: the v1 request; throttle_time_ms:INT32 first in the response. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { JoinGroupRequest, JoinGroupResponse } from './types.ts';
import { encodeJoinBody } from './v0.ts';
import { decodeJoinGroupV1 } from './v1.ts';

export const joinGroupV2 = codec<JoinGroupRequest, JoinGroupResponse>(
  ApiKey.JoinGroup,
  2,
  decodeJoinGroupV1,
  (e, r) => {
    e.int32(r.throttleTimeMs);
    encodeJoinBody(e, r);
  },
);
