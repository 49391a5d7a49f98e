/** OffsetCommit: a group member's committed offsets, checked against its generation. */
import type { OffsetCommitRequest, OffsetCommitResponse } from '../apis/offset-commit/types.ts';
import type { BrokerState } from '../broker-state.ts';
import { ErrorCode } from '../protocol/error-codes.ts';

export function handleOffsetCommit(broker: BrokerState, req: OffsetCommitRequest): OffsetCommitResponse {
  const check = broker.groups.checkCommit(req.groupId, req.generationId, req.memberId);
  return {
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        if (check !== ErrorCode.NONE) return { index: p.index, errorCode: check };
        if (!broker.partition(t.name, p.index)) {
          return { index: p.index, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        }
        const errorCode = broker.groups.commitOffset(
          req.groupId,
          t.name,
          p.index,
          p.committedOffset,
          p.metadata ?? '',
        );
        return { index: p.index, errorCode };
      }),
    })),
  };
}
