/** Produce v7: the v5 layout (v7 allows zstd-compressed batches). */
import { sameLayout } from '../codec.ts';
import { produceV5 } from './v5.ts';

export const produceV7 = sameLayout(produceV5, 7);
