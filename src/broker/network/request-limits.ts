/**
 * How many topics and partitions one request may name. A request's cost grows with the entries it lists, not
 * with its bytes: a Fetch of 3.2 MB naming one partition 200,000 times held the broker thread about 5 s (every
 * produce and fetch of every client waited), ListOffsets and OffsetCommit of as many entries about 1 s, and a
 * Metadata request naming 20,000 new topics created all of them (4.8 s, 65 MB). Within the 100 MiB frame limit
 * a request could list millions. Croupier's topics have a few partitions each; a request past this limit is
 * refused as malformed (the connection is closed with the reason), as any other request the broker cannot take.
 */

/** Topic and partition entries one request may list, all its lists together. */
export const MAX_REQUEST_ENTRIES = 10_000;

/**
 * The topic and partition entries of a decoded request: each `topics` entry, and each entry of its
 * `partitions` list (Produce, Fetch, ListOffsets, OffsetCommit, OffsetFetch, TxnOffsetCommit,
 * AddPartitionsToTxn, CreateTopics, DeleteTopics, Metadata).
 */
export function requestEntries(request: unknown): number {
  if (typeof request !== 'object' || request === null) return 0;
  let n = 0;
  for (const key of ['topics', 'forgottenTopics'] as const) {
    const topics = (request as Record<string, unknown>)[key];
    if (!Array.isArray(topics)) continue;
    n += topics.length;
    for (const topic of topics) {
      const partitions = (topic as { partitions?: unknown } | null)?.partitions;
      if (Array.isArray(partitions)) n += partitions.length;
    }
  }
  return n;
}
