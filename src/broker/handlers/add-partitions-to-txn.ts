/** AddPartitionsToTxn: partitions a transaction will write to (their markers are written on EndTxn). */
import type {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
} from '../apis/add-partitions-to-txn/types.ts';
import type { BrokerState } from '../broker-state.ts';

export function handleAddPartitionsToTxn(
  broker: BrokerState,
  req: AddPartitionsToTxnRequest,
): AddPartitionsToTxnResponse {
  return {
    throttleTimeMs: 0,
    results: broker.txns.addPartitions(req.transactionalId, req.producerId, req.producerEpoch, req.topics),
  };
}
