/** OffsetFetch: a group's committed offsets (-1 and empty metadata where none was committed). */
import type { OffsetFetchRequest, OffsetFetchResponse } from '../apis/offset-fetch/types.ts';
import type { BrokerState } from '../broker-state.ts';
import { ErrorCode } from '../protocol/error-codes.ts';

export function handleOffsetFetch(broker: BrokerState, req: OffsetFetchRequest): OffsetFetchResponse {
  return {
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((index) => {
        const committed = broker.groups.fetchOffset(req.groupId, t.name, index);
        return {
          index,
          committedOffset: committed ? committed.offset : -1,
          metadata: committed ? committed.metadata : '',
          errorCode: ErrorCode.NONE,
        };
      }),
    })),
  };
}
