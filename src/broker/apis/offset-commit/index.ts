import { offsetCommitV2 } from './v2.ts';

export type * from './types.ts';
export const offsetCommitCodecs = [offsetCommitV2];
