/** AddPartitionsToTxn v1: the v0 layout (throttling semantics). */
import { sameLayout } from '../codec.ts';
import { addPartitionsToTxnV0 } from './v0.ts';

export const addPartitionsToTxnV1 = sameLayout(addPartitionsToTxnV0, 1);
