import { listGroupsV0 } from './v0.ts';
import { listGroupsV1 } from './v1.ts';

export type * from './types.ts';
export const listGroupsCodecs = [listGroupsV0, listGroupsV1];
