/** TxnOffsetCommit v1: the v0 layout (throttling semantics). */
import { sameLayout } from '../codec.ts';
import { txnOffsetCommitV0 } from './v0.ts';

export const txnOffsetCommitV1 = sameLayout(txnOffsetCommitV0, 1);
