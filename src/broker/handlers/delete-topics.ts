/** DeleteTopics: removes each named topic, its log and its committed offsets. */
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../apis/delete-topics/types.ts';
import type { BrokerState } from '../broker-state.ts';
import { ErrorCode } from '../protocol/error-codes.ts';

export function handleDeleteTopics(broker: BrokerState, req: DeleteTopicsRequest): DeleteTopicsResponse {
  return {
    throttleTimeMs: 0,
    responses: req.topicNames.map((name) => ({
      name,
      errorCode: broker.deleteTopic(name) ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    })),
  };
}
