import { deleteTopicsV0 } from './v0.ts';
import { deleteTopicsV1 } from './v1.ts';

export type * from './types.ts';
export const deleteTopicsCodecs = [deleteTopicsV0, deleteTopicsV1];
