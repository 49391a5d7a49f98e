import { offsetFetchV1 } from './v1.ts';

export type * from './types.ts';
export const offsetFetchCodecs = [offsetFetchV1];
