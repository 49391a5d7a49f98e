/** AddOffsetsToTxn: a group whose offsets the transaction will commit. */
import type { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from '../apis/add-offsets-to-txn/types.ts';
import type { BrokerState } from '../broker-state.ts';

export function handleAddOffsetsToTxn(
  broker: BrokerState,
  req: AddOffsetsToTxnRequest,
): AddOffsetsToTxnResponse {
  return {
    throttleTimeMs: 0,
    errorCode: broker.txns.addOffsets(req.transactionalId, req.producerId, req.producerEpoch, req.groupId),
  };
}
