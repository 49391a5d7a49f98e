/** Produce v6: the v5 layout (v6 changed throttling semantics). */
import { sameLayout } from '../codec.ts';
import { produceV5 } from './v5.ts';

export const produceV6 = sameLayout(produceV5, 6);
