import { txnOffsetCommitV0 } from './v0.ts';
import { txnOffsetCommitV1 } from './v1.ts';

export type * from './types.ts';
export const txnOffsetCommitCodecs = [txnOffsetCommitV0, txnOffsetCommitV1];
