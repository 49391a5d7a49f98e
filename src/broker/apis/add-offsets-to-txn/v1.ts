/** AddOffsetsToTxn v1: the v0 layout (throttling semantics). */
import { sameLayout } from '../codec.ts';
import { addOffsetsToTxnV0 } from './v0.ts';

export const addOffsetsToTxnV1 = sameLayout(addOffsetsToTxnV0, 1);
