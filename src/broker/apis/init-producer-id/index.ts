import { initProducerIdV0 } from './v0.ts';
import { initProducerIdV1 } from './v1.ts';

export type * from './types.ts';
export const initProducerIdCodecs = [initProducerIdV0, initProducerIdV1];
