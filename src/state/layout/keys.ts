/**
 * The one table of Redis keys of docs/state-layout.md, used by the writer, the live reader and the tests. Every
 * key of a topic partition starts with `<prefix>{<topic>:<partition>}:`, its hash tag, so one batch script touches
 * one slot and the same code runs on Redis Cluster. The Lua scripts build the per-user and per-request keys the
 * same way from the key base they are given (`base .. "user:" .. userId`).
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Names of the fixed keys of a partition, in no particular order. */
export type PartitionKeyName =
  | 'offsets'
  | 'marker'
  | 'stats'
  | 'feed'
  | 'posterior'
  | 'item'
  | 'items'
  | 'users'
  | 'positions';

/** `<prefix>{<topic>:<partition>}:`: the base every key of the partition starts with. */
export function partitionKeyBase(prefix: string, tp: TopicPartition): string {
  return `${prefix}{${tp.topic}:${tp.partition}}:`;
}

export function partitionKey(prefix: string, tp: TopicPartition, name: PartitionKeyName): string {
  return partitionKeyBase(prefix, tp) + name;
}

/** A user's counters in a clickstream partition: `<base>user:<userId>`. */
export function userKey(prefix: string, tp: TopicPartition, userId: string): string {
  return `${partitionKeyBase(prefix, tp)}user:${userId}`;
}

/** A user's recently clicked items in a clickstream partition: `<base>recent:<userId>`. */
export function recentKey(prefix: string, tp: TopicPartition, userId: string): string {
  return `${partitionKeyBase(prefix, tp)}recent:${userId}`;
}

/**
 * The feedback the gateways took on a request's items, in a clickstream partition: `<base>clk:<requestId>`, a hash
 * of fields (feedbackClaimField) set once (HSETNX), kept for the attribution window. The gateways' own record, not
 * state the topology folds: it is what lets a click, a conversion and a watch count once per item shown across
 * connections and replicas.
 */
export function clickClaimKey(prefix: string, tp: TopicPartition, requestId: string): string {
  return `${partitionKeyBase(prefix, tp)}clk:${requestId}`;
}

/**
 * The field of a claim in `clk:<requestId>`: `<userId>|<itemId>` for a click (as before conversions and watches were
 * claimed), `<userId>|<itemId>|conversion` and `<userId>|<itemId>|watch` for the others. Ids never contain `|`, so
 * the user and the kind make every field one user's claim of one kind.
 */
export function feedbackClaimField(
  userId: string,
  itemId: string,
  kind: 'click' | 'conversion' | 'watch',
): string {
  return kind === 'click' ? `${userId}|${itemId}` : `${userId}|${itemId}|${kind}`;
}

/**
 * What a request showed one user, in a clickstream partition: `<base>req:<userId>|<requestId>`. Request ids are the
 * clients', so the record is keyed by user too: two users with one request id have a record each.
 */
export function requestKey(prefix: string, tp: TopicPartition, userId: string, requestId: string): string {
  return `${partitionKeyBase(prefix, tp)}req:${userId}|${requestId}`;
}

/**
 * A request's record as written before records were keyed by user: `<base>req:<requestId>`, naming its user in the
 * field REQUEST_USER_FIELD. Read (never written) until such records expire, one attribution window after an upgrade.
 */
export function legacyRequestKey(prefix: string, tp: TopicPartition, requestId: string): string {
  return `${partitionKeyBase(prefix, tp)}req:${requestId}`;
}
