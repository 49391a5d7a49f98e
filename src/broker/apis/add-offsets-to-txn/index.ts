import { addOffsetsToTxnV0 } from './v0.ts';
import { addOffsetsToTxnV1 } from './v1.ts';

export type * from './types.ts';
export const addOffsetsToTxnCodecs = [addOffsetsToTxnV0, addOffsetsToTxnV1];
