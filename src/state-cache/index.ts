/** The change-feed cache: croupier's in-memory `StateView`, tailing the topology's Redis change feeds. */
export {
  type CacheFreshness,
  type StateCache,
  type StateCacheOptions,
  startStateCache,
} from './change-feed-cache.ts';
export type { StateChange, StateChangeListener } from './state-store.ts';
