/** InitProducerId v1: the v0 layout (throttling semantics). */
import { sameLayout } from '../codec.ts';
import { initProducerIdV0 } from './v0.ts';

export const initProducerIdV1 = sameLayout(initProducerIdV0, 1);
