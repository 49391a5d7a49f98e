/**
 * SyncGroup v0
 * Request  => group_id:STRING generation_id:INT32 member_id:STRING
 *             [assignments => member_id:STRING assignment:BYTES]
 * Response => error_code:INT16 assignment:BYTES
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Decoder } from '../../protocol/decoder.ts';
import { codec } from '../codec.ts';
import type { SyncGroupRequest, SyncGroupResponse } from './types.ts';

export function decodeSyncGroup(d: Decoder): SyncGroupRequest {
  return {
    groupId: d.string(),
    generationId: d.int32(),
    memberId: d.string(),
    assignments: d.array((a) => ({ memberId: a.string(), assignment: Buffer.from(a.bytes()) })),
  };
}

export const syncGroupV0 = codec<SyncGroupRequest, SyncGroupResponse>(
  ApiKey.SyncGroup,
  0,
  decodeSyncGroup,
  (e, r) => {
    e.int16(r.errorCode).bytes(r.assignment);
  },
);
