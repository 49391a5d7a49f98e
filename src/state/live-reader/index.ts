/** The live reader of Redis state (the gateway's side): an in-memory `StateView` tailing the topology's change feeds. */
export {
  type LiveStateFreshness,
  type LiveStateReader,
  type LiveStateReaderOptions,
  startLiveStateReader,
} from './live-state-reader.ts';
export type { LiveStateHealth } from './marker-watch.ts';
export type { StateChange, StateChangeListener } from './state-tables.ts';
