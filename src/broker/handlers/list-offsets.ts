/**
 * ListOffsets: the latest offset (-1: the high watermark, or the last stable offset for read_committed),
 * the earliest (-2: the log start) or the first offset at or after a timestamp.
 */
import type { ListOffsetsRequest, ListOffsetsResponse } from '../apis/list-offsets/types.ts';
import type { BrokerState } from '../broker-state.ts';
import { ErrorCode } from '../protocol/error-codes.ts';

export function handleListOffsets(broker: BrokerState, req: ListOffsetsRequest): ListOffsetsResponse {
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const partition = broker.partition(t.name, p.index);
        if (!partition) {
          return {
            index: p.index,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            timestamp: -1,
            offset: -1,
          };
        }
        let offset: number;
        let timestamp = -1;
        if (p.timestamp === -1) {
          offset = req.isolationLevel === 1 ? partition.lastStableOffset() : partition.highWatermark;
        } else if (p.timestamp === -2) {
          offset = partition.logStartOffset;
        } else {
          const found = partition.offsetForTimestamp(p.timestamp);
          offset = found.offset;
          timestamp = found.timestamp;
          if (req.isolationLevel === 1 && offset >= partition.lastStableOffset()) {
            offset = -1;
            timestamp = -1;
          }
        }
        return { index: p.index, errorCode: ErrorCode.NONE, timestamp, offset };
      }),
    })),
  };
}
