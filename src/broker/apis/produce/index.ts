import { produceV3 } from './v3.ts';
import { produceV4 } from './v4.ts';
import { produceV5 } from './v5.ts';
import { produceV6 } from './v6.ts';
import { produceV7 } from './v7.ts';

export type * from './types.ts';
export const produceCodecs = [produceV3, produceV4, produceV5, produceV6, produceV7];
