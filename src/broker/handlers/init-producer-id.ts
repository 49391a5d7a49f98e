/** InitProducerId: a producer id and epoch (bumped, fencing the old one, for a transactional id). */
import type { InitProducerIdRequest, InitProducerIdResponse } from '../apis/init-producer-id/types.ts';
import type { BrokerState } from '../broker-state.ts';

export function handleInitProducerId(
  broker: BrokerState,
  req: InitProducerIdRequest,
): InitProducerIdResponse {
  return { throttleTimeMs: 0, ...broker.txns.initProducerId(req.transactionalId, req.transactionTimeoutMs) };
}
