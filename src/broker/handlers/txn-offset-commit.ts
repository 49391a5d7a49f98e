/** TxnOffsetCommit: offsets held in the transaction until it commits. */
import type { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from '../apis/txn-offset-commit/types.ts';
import type { BrokerState } from '../broker-state.ts';

export function handleTxnOffsetCommit(
  broker: BrokerState,
  req: TxnOffsetCommitRequest,
): TxnOffsetCommitResponse {
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        index: p.index,
        errorCode: broker.txns.txnOffsetCommit(
          req.transactionalId,
          req.groupId,
          req.producerId,
          req.producerEpoch,
          t.name,
          p.index,
          { offset: p.committedOffset, metadata: p.metadata },
        ),
      })),
    })),
  };
}
