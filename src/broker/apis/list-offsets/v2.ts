/**
 * ListOffsets v2: isolation_level:INT8 after replica_id in the request; throttle_time_ms:INT32 first in the
 * response. Otherwise the v1 layout.
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { ListOffsetsRequest, ListOffsetsResponse } from './types.ts';
import { decodeTopics, encodeTopics } from './v1.ts';

export const listOffsetsV2 = codec<ListOffsetsRequest, ListOffsetsResponse>(
  ApiKey.ListOffsets,
  2,
  (d) => ({ replicaId: d.int32(), isolationLevel: d.int8(), topics: decodeTopics(d) }),
  (e, r) => {
    e.int32(r.throttleTimeMs);
    encodeTopics(e, r.topics);
  },
);
