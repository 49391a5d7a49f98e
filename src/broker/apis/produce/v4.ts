/** Produce v4: the v3 layout (v4 added the KAFKA_STORAGE_ERROR code). */
import { sameLayout } from '../codec.ts';
import { produceV3 } from './v3.ts';

export const produceV4 = sameLayout(produceV3, 4);
