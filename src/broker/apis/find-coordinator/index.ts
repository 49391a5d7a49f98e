import { findCoordinatorV0 } from './v0.ts';
import { findCoordinatorV1 } from './v1.ts';

export type * from './types.ts';
export const findCoordinatorCodecs = [findCoordinatorV0, findCoordinatorV1];
