import { endTxnV0 } from './v0.ts';
import { endTxnV1 } from './v1.ts';

export type * from './types.ts';
export const endTxnCodecs = [endTxnV0, endTxnV1];
