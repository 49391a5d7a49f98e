import { addPartitionsToTxnV0 } from './v0.ts';
import { addPartitionsToTxnV1 } from './v1.ts';

export type * from './types.ts';
export const addPartitionsToTxnCodecs = [addPartitionsToTxnV0, addPartitionsToTxnV1];
