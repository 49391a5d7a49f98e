/**
 * Snapshots of one partition for the live reader (docs/state-layout.md): one `MULTI` reads the hashes the reader
 * caches plus `XREVRANGE feed + - COUNT 1` and `TIME` for the position its cursor starts from, and the partition's
 * marker; when the marker shows a state that is lost or being rebuilt while the tables hold a whole one, the
 * snapshot is dropped (partition-health.ts); otherwise it replaces what the tables hold of that partition. Every
 * command touches the partition's slot, so it runs on a Cluster too.
 */
import type { Cluster, Redis } from 'ioredis';
import { CroupierError } from '../../errors/index.ts';
import type { UserActivity } from '../layout/feed-entry.ts';
import { partitionKey, recentKey, userKey } from '../layout/keys.ts';
import type { FeedCursor } from './feed-cursor.ts';
import {
  parseItemHash,
  parseItemRow,
  parsePosteriorHash,
  parseUserActivity,
  parseUserRow,
} from './parse-state.ts';
import { parseMarker } from './partition-health.ts';
import type { StateTables } from './state-tables.ts';

type MultiResult = [Error | null, unknown][] | null;

/** Runs a transaction and returns its replies, throwing the first error (or when it was aborted). */
export async function execMulti(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
  const results = (await multi.exec()) as MultiResult;
  if (results === null) {
    throw new CroupierError('CROUPIER_ERR_STATE_CACHE_FEED', 'a snapshot transaction was aborted');
  }
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

export interface SnapshotLoaderOptions {
  redis: Redis | Cluster;
  keyPrefix: string;
  tables: StateTables;
  /** Counts stored rows that fail validation (they are left out). */
  counters: { malformed: number };
}

/**
 * Returns the function that snapshots a cursor's partition into the tables and starts the cursor after it;
 * it resolves to false when the marker kept the snapshot out (the tables hold the last good copy).
 */
export function createSnapshotLoader(
  options: SnapshotLoaderOptions,
): (cursor: FeedCursor) => Promise<boolean> {
  const { redis, keyPrefix: prefix, tables, counters } = options;

  /** Posteriors, item counters and the activity of the users the tables already hold of this partition. */
  async function snapshotClickstream(cursor: FeedCursor): Promise<boolean> {
    const { tp } = cursor;
    const { partition } = tp;
    const users = tables.usersOfPartition(partition);
    const multi = redis
      .multi()
      .hmget(cursor.marker, 'epoch', 'rebuildUntil')
      .hgetall(partitionKey(prefix, tp, 'posterior'))
      .hgetall(partitionKey(prefix, tp, 'item'));
    for (const userId of users) {
      multi.hgetall(userKey(prefix, tp, userId)).lrange(recentKey(prefix, tp, userId), 0, -1);
    }
    multi.xrevrange(cursor.feed, '+', '-', 'COUNT', 1).time();
    const [marker, ...values] = await execMulti(multi);
    if (!cursor.health.admitSnapshot(parseMarker(marker))) return false;
    const activity = new Map<string, UserActivity | null>();
    users.forEach((userId, i) => {
      const hash = values[2 + 2 * i] as Record<string, string>;
      const recent = values[3 + 2 * i] as string[];
      activity.set(userId, parseUserActivity(hash, recent));
    });
    tables.replaceClickPartition(
      partition,
      parsePosteriorHash(values[0] as Record<string, string>),
      parseItemHash(values[1] as Record<string, string>),
      activity,
    );
    cursor.startAt(values[values.length - 2], values[values.length - 1]);
    return true;
  }

  /** The `items` or `users` hash of a CDC partition. */
  async function snapshotRows(cursor: FeedCursor): Promise<boolean> {
    const { tp, kind } = cursor;
    const key = partitionKey(prefix, tp, kind === 'items' ? 'items' : 'users');
    const [marker, ...values] = await execMulti(
      redis
        .multi()
        .hmget(cursor.marker, 'epoch', 'rebuildUntil')
        .hgetall(key)
        .xrevrange(cursor.feed, '+', '-', 'COUNT', 1)
        .time(),
    );
    if (!cursor.health.admitSnapshot(parseMarker(marker))) return false;
    const hash = values[0] as Record<string, string>;
    if (kind === 'items') tables.replaceItemPartition(tp.partition, parseRows(hash, parseItemRow));
    else tables.replaceUserPartition(tp.partition, parseRows(hash, parseUserRow));
    cursor.startAt(values[1], values[2]);
    return true;
  }

  /** The rows of a stored hash that parse; the others are counted as malformed and left out. */
  function parseRows<Row>(
    hash: Record<string, string>,
    parse: (value: string) => Row | null,
  ): Map<string, Row> {
    const rows = new Map<string, Row>();
    for (const id in hash) {
      const row = parse(hash[id]);
      if (row === null) counters.malformed++;
      else rows.set(id, row);
    }
    return rows;
  }

  return (cursor) => (cursor.kind === 'click' ? snapshotClickstream(cursor) : snapshotRows(cursor));
}
