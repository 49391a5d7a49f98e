/** EndTxn v1: the v0 layout (throttling semantics). */
import { sameLayout } from '../codec.ts';
import { endTxnV0 } from './v0.ts';

export const endTxnV1 = sameLayout(endTxnV0, 1);
