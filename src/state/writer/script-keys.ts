/**
 * The KEYS array of each state script, built from the layout's key table (`../layout/keys.ts`) in the order the
 * script's header lists them, never written out twice.
 */
import { type PartitionKeyName, partitionKeyBase, type TopicPartition } from '../layout/keys.ts';

/** KEYS of each script, in the order its header lists them. */
export const SCRIPT_KEYS = {
  applyClickstream: ['offsets', 'stats', 'feed', 'posterior', 'item', 'marker'],
  applyItems: ['offsets', 'stats', 'feed', 'items', 'marker', 'positions'],
  applyUsers: ['offsets', 'stats', 'feed', 'users', 'marker', 'positions'],
  markRebuild: ['offsets', 'marker'],
  startNewLog: ['offsets', 'marker'],
} as const satisfies Record<string, readonly PartitionKeyName[]>;

export type ScriptKeysName = keyof typeof SCRIPT_KEYS;

/** The KEYS array of `script` for one partition. */
export function scriptKeys(prefix: string, tp: TopicPartition, script: ScriptKeysName): string[] {
  const base = partitionKeyBase(prefix, tp);
  return SCRIPT_KEYS[script].map((name) => base + name);
}
