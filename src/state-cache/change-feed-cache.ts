/**
 * The gateway's change-feed cache: a `StateView` kept current by tailing the per-partition change feeds the
 * stream topology writes (docs/state-layout.md). Per partition: one MULTI snapshot of the cached hashes plus
 * the feed position, then `XRANGE <position> + COUNT n` every `pollMs`. The range starts at (and includes)
 * the position, so a reader that fell behind the feed's cap sees that its position is gone and takes a fresh
 * snapshot of that partition. The same commands run on a single Redis and on a Cluster (each call touches
 * one partition's slot).
 */
import type { Cluster, Redis } from 'ioredis';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import type { ItemInfo, StateView } from '../decision/types.ts';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import {
  clickFeedSchema,
  compareStreamIds,
  entryField,
  itemFeedSchema,
  mergeItemCounters,
  mergeUserActivity,
  parseItemHash,
  parseItemRow,
  parsePosteriorHash,
  parseUserActivity,
  parseUserRow,
  safeJson,
  streamIdMs,
  userFeedSchema,
} from './feed-format.ts';
import { clickstreamKeys, itemPoolKey, partitionKeys, userRowsKey } from './keys.ts';
import { type StateChangeListener, StateStore, type UserActivity, type UserRowData } from './state-store.ts';

export interface StateCacheOptions {
  redis: Redis | Cluster;
  /** `redis.keyPrefix` of the config. */
  keyPrefix: string;
  topics: { clickstream: string; cdcItems: string; cdcUsers: string };
  /** Partition count of each topic (as created in Kafka). */
  partitions: { clickstream: number; cdcItems: number; cdcUsers: number };
  /** `stream.decayHalfLifeSeconds`: the half-life the topology decays counts with. */
  halfLifeSeconds: number;
  /** Time between two reads of the feeds (default 25 ms). */
  pollMs?: number;
  /** Most feed entries read per partition and round (default 500). */
  readCount?: number;
  logger: Logger;
}

export interface CacheFreshness {
  /** Milliseconds since the last completed read of every feed. */
  lastSyncAgeMs: number;
  /** Write-to-apply delay of the newest applied entry (entry id time → applied), ms; null before any. */
  lastApplyDelayMs: number | null;
  entriesApplied: number;
  malformedEntries: number;
  /** Snapshots taken because a reader fell behind the feed's cap (or the feed vanished). */
  resnapshots: number;
  partitions: number;
}

export interface StateCache extends StateView {
  /** Called after each read round that changed something. */
  onChange(listener: StateChangeListener): () => void;
  /** Loads a user's activity from Redis unless cached (call on hello; decisions never wait on it). */
  loadUser(userId: string): Promise<void>;
  /** Some known user ids, for pickers. */
  userIds(limit: number): string[];
  freshness(): CacheFreshness;
  close(): Promise<void>;
}

type FeedKind = 'click' | 'items' | 'users';

interface FeedCursor {
  readonly kind: FeedKind;
  readonly partition: number;
  readonly feed: string;
  /** Last applied entry id, or a synthetic `<ms>-0` taken from Redis TIME when the feed was empty. */
  position: string;
  synthetic: boolean;
}

type MultiResult = [Error | null, unknown][] | null;

/** Starts the cache: snapshots every partition, then tails the feeds until `close()`. */
export async function startStateCache(options: StateCacheOptions): Promise<StateCache> {
  const { redis, keyPrefix: prefix, topics, logger } = options;
  const pollMs = options.pollMs ?? 25;
  const readCount = options.readCount ?? 500;
  const store = new StateStore({ halfLifeSeconds: options.halfLifeSeconds });
  const log = logger.child({ component: 'state-cache' });
  const partitioner = Partitioners.DefaultPartitioner();
  const clickMeta: PartitionMetadata[] = Array.from({ length: options.partitions.clickstream }, (_, i) => ({
    partitionId: i,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  const counters = { entriesApplied: 0, malformed: 0, resnapshots: 0 };
  let lastSyncAt = Date.now();
  let lastApplyDelayMs: number | null = null;
  let closed = false;

  const cursors: FeedCursor[] = [];
  const addCursors = (kind: FeedKind, topic: string, count: number) => {
    for (let p = 0; p < count; p++) {
      cursors.push({
        kind,
        partition: p,
        feed: partitionKeys(prefix, topic, p).feed,
        position: '0-0',
        synthetic: true,
      });
    }
  };
  addCursors('click', topics.clickstream, options.partitions.clickstream);
  addCursors('items', topics.cdcItems, options.partitions.cdcItems);
  addCursors('users', topics.cdcUsers, options.partitions.cdcUsers);

  const setPosition = (cursor: FeedCursor, last: unknown, time: unknown) => {
    const newest = Array.isArray(last) && Array.isArray(last[0]) ? String(last[0][0]) : null;
    if (newest !== null) {
      cursor.position = newest;
      cursor.synthetic = false;
    } else {
      const seconds = Array.isArray(time) ? Number(time[0]) : Math.floor(Date.now() / 1000);
      const micros = Array.isArray(time) ? Number(time[1]) : 0;
      cursor.position = `${seconds * 1000 + Math.floor(micros / 1000)}-0`;
      cursor.synthetic = true;
    }
  };

  const execOrThrow = async (multi: ReturnType<Redis['multi']>): Promise<unknown[]> => {
    const results = (await multi.exec()) as MultiResult;
    if (results === null) {
      throw new CroupierError('CROUPIER_ERR_STATE_CACHE_FEED', 'a snapshot transaction was aborted');
    }
    return results.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
  };

  const snapshot = async (cursor: FeedCursor): Promise<void> => {
    const { partition } = cursor;
    if (cursor.kind === 'click') {
      const keys = clickstreamKeys(prefix, topics.clickstream, partition);
      const users = store.usersOfPartition(partition);
      const multi = redis.multi().hgetall(keys.posterior).hgetall(keys.item);
      for (const userId of users) multi.hgetall(keys.user(userId)).lrange(keys.recent(userId), 0, -1);
      multi.xrevrange(keys.feed, '+', '-', 'COUNT', 1).time();
      const values = await execOrThrow(multi);
      const activity = new Map<string, UserActivity | null>();
      users.forEach((userId, i) => {
        const hash = values[2 + 2 * i] as Record<string, string>;
        const recent = values[3 + 2 * i] as string[];
        activity.set(userId, parseUserActivity(hash, recent));
      });
      store.replaceClickPartition(
        partition,
        parsePosteriorHash(values[0] as Record<string, string>),
        parseItemHash(values[1] as Record<string, string>),
        activity,
      );
      setPosition(cursor, values[values.length - 2], values[values.length - 1]);
      return;
    }
    const key =
      cursor.kind === 'items'
        ? itemPoolKey(prefix, topics.cdcItems, partition)
        : userRowsKey(prefix, topics.cdcUsers, partition);
    const values = await execOrThrow(
      redis.multi().hgetall(key).xrevrange(cursor.feed, '+', '-', 'COUNT', 1).time(),
    );
    const hash = values[0] as Record<string, string>;
    if (cursor.kind === 'items') {
      const rows = new Map<string, ItemInfo>();
      for (const itemId in hash) {
        const row = parseItemRow(hash[itemId]);
        if (row === null) counters.malformed++;
        else rows.set(itemId, row);
      }
      store.replaceItemPartition(partition, rows);
    } else {
      const rows = new Map<string, UserRowData>();
      for (const userId in hash) {
        const row = parseUserRow(hash[userId]);
        if (row === null) counters.malformed++;
        else rows.set(userId, row);
      }
      store.replaceUserPartition(partition, rows);
    }
    setPosition(cursor, values[1], values[2]);
  };

  const applyEntry = (cursor: FeedCursor, fields: string[]): void => {
    const data = safeJson(entryField(fields, 'd') ?? '');
    const { partition } = cursor;
    if (cursor.kind === 'click') {
      const parsed = clickFeedSchema.safeParse(data);
      if (!parsed.success) {
        counters.malformed++;
        return;
      }
      for (const [key, [imp, clk]] of Object.entries(parsed.data.posterior)) {
        store.setArm(partition, key, imp, clk);
      }
      for (const [itemId, fields] of Object.entries(parsed.data.item)) {
        store.setItemCounters(
          partition,
          itemId,
          mergeItemCounters(store.itemCounters(partition, itemId), fields),
        );
      }
      for (const [userId, fields] of Object.entries(parsed.data.user)) {
        store.setUserActivity(
          partition,
          userId,
          fields === null ? null : mergeUserActivity(store.activityOf(userId), fields),
        );
      }
    } else if (cursor.kind === 'items') {
      const parsed = itemFeedSchema.safeParse(data);
      if (!parsed.success) {
        counters.malformed++;
        return;
      }
      for (const [itemId, row] of Object.entries(parsed.data.items)) {
        const info = row === null ? null : parseItemRow(row);
        if (row !== null && info === null) counters.malformed++;
        store.setItemRow(partition, itemId, info);
      }
    } else {
      const parsed = userFeedSchema.safeParse(data);
      if (!parsed.success) {
        counters.malformed++;
        return;
      }
      for (const [userId, row] of Object.entries(parsed.data.users)) {
        const attrs = row === null ? null : parseUserRow(row);
        if (row !== null && attrs === null) counters.malformed++;
        store.setUserRow(partition, userId, attrs);
      }
    }
    counters.entriesApplied++;
  };

  /** Reads one partition's new entries; returns false when its position is gone (behind the cap). */
  const readPartition = async (cursor: FeedCursor): Promise<boolean> => {
    const entries = (await redis.xrange(cursor.feed, cursor.position, '+', 'COUNT', readCount + 1)) as [
      string,
      string[],
    ][];
    let start = 0;
    if (!cursor.synthetic) {
      if (entries.length === 0 || entries[0][0] !== cursor.position) return false;
      start = 1;
    }
    for (let i = start; i < entries.length; i++) applyEntry(cursor, entries[i][1]);
    if (entries.length > start) {
      const newest = entries[entries.length - 1][0];
      if (cursor.synthetic || compareStreamIds(newest, cursor.position) > 0) {
        cursor.position = newest;
        cursor.synthetic = false;
        lastApplyDelayMs = Math.max(0, Date.now() - streamIdMs(newest));
      }
    }
    return true;
  };

  const round = async (): Promise<void> => {
    const ok = await Promise.all(cursors.map(readPartition));
    for (let i = 0; i < cursors.length; i++) {
      if (ok[i]) continue;
      counters.resnapshots++;
      log.warn(
        { feed: cursors[i].feed, position: cursors[i].position },
        'change feed no longer holds the cache position (fell behind the cap, or the feed was reset): taking a fresh snapshot',
      );
      await snapshot(cursors[i]);
    }
    lastSyncAt = Date.now();
    store.flushChanges();
  };

  await Promise.all(cursors.map(snapshot)).catch((error: unknown) => {
    throw new CroupierError(
      'CROUPIER_ERR_REDIS_UNAVAILABLE',
      `the state cache could not read its first snapshot from Redis: ${(error as Error).message}. Check redis.url / redis.clusterNodes.`,
      {},
      { cause: error },
    );
  });
  lastSyncAt = Date.now();
  store.flushChanges();

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let failures = 0;
  const schedule = (delay: number) => {
    if (closed) return;
    timer = setTimeout(() => {
      running = round().then(
        () => {
          if (failures > 0) log.info('change feeds readable again');
          failures = 0;
          schedule(pollMs);
        },
        (error: unknown) => {
          failures++;
          if (failures === 1 || failures % 100 === 0) {
            log.error(
              { err: error, failures },
              'reading the change feeds failed; serving from the cache as is',
            );
          }
          schedule(Math.min(1000, pollMs * 2 ** Math.min(failures, 6)));
        },
      );
    }, delay);
  };
  schedule(pollMs);
  log.info(
    { partitions: cursors.length, items: store.items().length, pollMs },
    'state cache ready, tailing change feeds',
  );

  return {
    items: () => store.items(),
    arm: (itemId, segment) => store.arm(itemId, segment),
    itemFeatures: (itemId) => store.itemFeatures(itemId),
    user: (userId) => store.user(userId),
    onChange: (listener) => store.onChange(listener),
    userIds: (limit) => store.userIds(limit),
    async loadUser(userId) {
      if (store.hasActivity(userId)) return;
      const partition = partitioner({
        topic: topics.clickstream,
        partitionMetadata: clickMeta,
        message: { key: userId, value: null },
      });
      const keys = clickstreamKeys(prefix, topics.clickstream, partition);
      const [hash, recent] = await execOrThrow(
        redis.multi().hgetall(keys.user(userId)).lrange(keys.recent(userId), 0, -1),
      );
      const activity = parseUserActivity(hash as Record<string, string>, recent as string[]);
      if (activity !== null && !store.hasActivity(userId)) store.setUserActivity(partition, userId, activity);
    },
    freshness: () => ({
      lastSyncAgeMs: Date.now() - lastSyncAt,
      lastApplyDelayMs,
      entriesApplied: counters.entriesApplied,
      malformedEntries: counters.malformed,
      resnapshots: counters.resnapshots,
      partitions: cursors.length,
    }),
    async close() {
      closed = true;
      clearTimeout(timer);
      await running.catch(() => undefined);
    },
  };
}
