import { fetchV4 } from './v4.ts';
import { fetchV5 } from './v5.ts';
import { fetchV6 } from './v6.ts';
import { fetchV7 } from './v7.ts';
import { fetchV8 } from './v8.ts';
import { fetchV9 } from './v9.ts';
import { fetchV10 } from './v10.ts';
import { fetchV11 } from './v11.ts';

export type * from './types.ts';
export const fetchCodecs = [fetchV4, fetchV5, fetchV6, fetchV7, fetchV8, fetchV9, fetchV10, fetchV11];
