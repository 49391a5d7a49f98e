/**
 * Splitting a producer's messages into sends Kafka takes. kafkajs puts a send's messages for one partition into
 * one record batch, and a broker refuses a batch over its `max.message.bytes` (1,048,588 by default) with
 * MESSAGE_TOO_LARGE, every time: a send over it never succeeds however often it is retried.
 */

/** Most key and value bytes in one send: under Kafka's default `max.message.bytes`, with room for the headers. */
export const MAX_SEND_BYTES = 1_000_000;

/**
 * What a record adds to its batch beside its key and value, at most: length, attributes, timestamp and offset
 * deltas, key and value lengths and a header count, as varints.
 */
const RECORD_OVERHEAD_BYTES = 32;

/** A message's key and value bytes. */
export function messageBytes(message: { key?: Buffer | string | null; value: Buffer | null }): number {
  const key = message.key ?? null;
  const keyBytes = key === null ? 0 : typeof key === 'string' ? Buffer.byteLength(key) : key.length;
  return keyBytes + (message.value?.length ?? 0);
}

/**
 * Consecutive groups of `messages`, in order, each of at most `maxBytes` key, value and record framing bytes (a
 * message over it alone is a group of its own).
 */
export function sendGroups<M extends { key?: Buffer | string | null; value: Buffer | null }>(
  messages: readonly M[],
  maxBytes = MAX_SEND_BYTES,
): M[][] {
  const groups: M[][] = [];
  let group: M[] = [];
  let groupBytes = 0;
  for (const m of messages) {
    const bytes = messageBytes(m) + RECORD_OVERHEAD_BYTES;
    if (group.length > 0 && groupBytes + bytes > maxBytes) {
      groups.push(group);
      group = [];
      groupBytes = 0;
    }
    group.push(m);
    groupBytes += bytes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
