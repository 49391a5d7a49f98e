/**
 * The one table of Redis keys the state scripts touch (docs/state-layout.md). Every key of a topic partition
 * starts with `<prefix>{<topic>:<partition>}:`, its hash tag, so one batch script touches one slot. The KEYS
 * array of each script is built here from the script's key names, never written out twice.
 */

/** Names of the fixed keys of a partition, in no particular order. */
export type PartitionKeyName = 'offsets' | 'stats' | 'feed' | 'posterior' | 'item' | 'items' | 'users';

/** KEYS of each script, in the order its header lists them. */
export const SCRIPT_KEYS = {
  applyClickstream: ['offsets', 'stats', 'feed', 'posterior', 'item'],
  applyItems: ['offsets', 'stats', 'feed', 'items'],
  applyUsers: ['offsets', 'stats', 'feed', 'users'],
} as const satisfies Record<string, readonly PartitionKeyName[]>;

export type ScriptKeysName = keyof typeof SCRIPT_KEYS;

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** `<prefix>{<topic>:<partition>}:`: the base every key of the partition starts with. */
export function partitionKeyBase(prefix: string, tp: TopicPartition): string {
  return `${prefix}{${tp.topic}:${tp.partition}}:`;
}

export function partitionKey(prefix: string, tp: TopicPartition, name: PartitionKeyName): string {
  return partitionKeyBase(prefix, tp) + name;
}

/** The KEYS array of `script` for one partition. */
export function scriptKeys(prefix: string, tp: TopicPartition, script: ScriptKeysName): string[] {
  const base = partitionKeyBase(prefix, tp);
  return SCRIPT_KEYS[script].map((name) => base + name);
}

/** Per-user and per-request keys (built the same way inside the clickstream script). */
export function userKey(prefix: string, tp: TopicPartition, userId: string): string {
  return `${partitionKeyBase(prefix, tp)}user:${userId}`;
}

export function recentKey(prefix: string, tp: TopicPartition, userId: string): string {
  return `${partitionKeyBase(prefix, tp)}recent:${userId}`;
}

export function requestKey(prefix: string, tp: TopicPartition, requestId: string): string {
  return `${partitionKeyBase(prefix, tp)}req:${requestId}`;
}
