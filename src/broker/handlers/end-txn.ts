/** EndTxn: commits or aborts a transaction (markers on its partitions, its pending offsets applied). */
import type { EndTxnRequest, EndTxnResponse } from '../apis/end-txn/types.ts';
import type { BrokerState } from '../broker-state.ts';

export function handleEndTxn(broker: BrokerState, req: EndTxnRequest): EndTxnResponse {
  return {
    throttleTimeMs: 0,
    errorCode: broker.txns.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed),
  };
}
