/**
 * The gateway's live reader of Redis state: a `StateView` kept in memory and current by tailing the per-partition
 * change feeds the stream topology writes (docs/state-layout.md). It never writes. Per partition: one snapshot
 * (snapshot.ts), then a cursor (feed-cursor.ts) reads the new entries every `pollMs` and applies them to the tables
 * (apply-feed-entry.ts, state-tables.ts); a cursor that fell behind the feed's cap takes a fresh snapshot of its
 * partition. The same commands run on a single Redis and on a Cluster (each call touches one partition's slot).
 *
 * Every `markerCheckMs` it also reads each partition's marker (partition-health.ts): a partition whose state Redis
 * lost, or is rebuilding, keeps its last good copy (no feed is read for it and no empty snapshot replaces it) and
 * makes `health()` not ready, until the marker says the rebuild is done and a fresh snapshot takes the rebuilt
 * state. A catalog with no available item is not ready either (every carousel would be empty). Every `evictAfterMs` / 4 users not seen and items out of the catalog for `evictAfterMs` leave the tables.
 */
import type { Cluster, Redis } from 'ioredis';
import type { StateView } from '../../domain/decision.ts';
import type { FeedbackKind } from '../../domain/protocol-messages.ts';
import type { ShownCheck } from '../../domain/state-deltas.ts';
import { CroupierError } from '../../errors/index.ts';
import type { Logger } from '../../log/logger.ts';
import { FEED_ENTRY_FIELDS } from '../layout/feed-entry.ts';
import { createFeedEntryApplier } from './apply-feed-entry.ts';
import { entryField, type FeedCursor, streamIdMs, topicCursors } from './feed-cursor.ts';
import { startFeedPoller } from './feed-poller.ts';
import { createMarkerWatch, type LiveStateHealth } from './marker-watch.ts';
import { createSnapshotLoader } from './snapshot.ts';
import { type StateChangeListener, StateTables } from './state-tables.ts';
import { createUserReads } from './user-reads.ts';

export interface LiveStateReaderOptions {
  redis: Redis | Cluster;
  /** `redis.keyPrefix` of the config. */
  keyPrefix: string;
  topics: { clickstream: string; cdcItems: string; cdcUsers: string };
  /** Partition count of each topic (as created in Kafka). */
  partitions: { clickstream: number; cdcItems: number; cdcUsers: number };
  /** `stream.decayHalfLifeSeconds`: the half-life the topology decays counts with. */
  halfLifeSeconds: number;
  /** `stream.requestTtlSeconds`: how long click claims are kept (see user-reads.ts). */
  requestTtlSeconds?: number;
  /** Time between two reads of the feeds (default 25 ms). */
  pollMs?: number;
  /** Most feed entries read per partition and round (default 500). */
  readCount?: number;
  /** Time between two reads of every partition's marker (default 500 ms). */
  markerCheckMs?: number;
  /** Users not seen and items out of the catalog for this long leave the tables (default 1 h; 0: never). */
  evictAfterMs?: number;
  /**
   * Called with the time (ms) from a click's Kafka timestamp until the entry that carries it is applied, for each
   * click a clickstream entry names (its `t`); once per entry and click, never per decision.
   */
  onClickApplied?: (delayMs: number) => void;
  logger: Logger;
}

export interface LiveStateFreshness {
  /** Milliseconds since the last completed read of every feed. */
  lastSyncAgeMs: number;
  /** Write-to-apply delay of the newest applied entry (entry id time → applied), ms; null before any. */
  lastApplyDelayMs: number | null;
  entriesApplied: number;
  malformedEntries: number;
  /** Snapshots taken because a reader fell behind the feed's cap (or the feed vanished), or a rebuild ended. */
  resnapshots: number;
  partitions: number;
  /** Partitions whose state Redis lost or is rebuilding, served from the last good copy. */
  heldPartitions: number;
  /** Partitions the reader follows through a rebuild (it had no whole copy to keep). */
  rebuildingPartitions: number;
  /** Users' activity and items' counts evicted as idle or out of the catalog, since start. */
  evictedUsers: number;
  evictedItems: number;
}

export interface LiveStateReader extends StateView {
  /** Called after each read round that changed something. */
  onChange(listener: StateChangeListener): () => void;
  /** Loads a user's activity from Redis unless cached (call on hello; decisions never wait on it). */
  loadUser(userId: string): Promise<void>;
  /** Whether the logged impressions of `requestId` show `itemId` to `userId` (see user-reads.ts). */
  wasShown(userId: string, requestId: string, itemId: string): Promise<ShownCheck>;
  /** Takes a click, a conversion or a watch for the first connection that asks (see user-reads.ts). */
  claimFeedback(userId: string, requestId: string, itemId: string, kind: FeedbackKind): Promise<boolean>;
  /** Some known user ids, for pickers. */
  userIds(limit: number): string[];
  freshness(): LiveStateFreshness;
  health(): LiveStateHealth;
  close(): Promise<void>;
}

/** Starts the live reader: snapshots every partition, then tails the feeds until `close()`. */
export async function startLiveStateReader(options: LiveStateReaderOptions): Promise<LiveStateReader> {
  const { redis, keyPrefix, topics, partitions, logger } = options;
  const pollMs = options.pollMs ?? 25;
  const readCount = options.readCount ?? 500;
  const markerCheckMs = options.markerCheckMs ?? 500;
  const evictAfterMs = options.evictAfterMs ?? 3_600_000;
  const tables = new StateTables({ halfLifeSeconds: options.halfLifeSeconds });
  const log = logger.child({ component: 'state-cache' });
  const counters = { entriesApplied: 0, malformed: 0, resnapshots: 0, evictedUsers: 0, evictedItems: 0 };
  let lastSyncAt = Date.now();
  let lastApplyDelayMs: number | null = null;

  const cursors: FeedCursor[] = [
    ...topicCursors('click', keyPrefix, topics.clickstream, partitions.clickstream),
    ...topicCursors('items', keyPrefix, topics.cdcItems, partitions.cdcItems),
    ...topicCursors('users', keyPrefix, topics.cdcUsers, partitions.cdcUsers),
  ];
  const snapshot = createSnapshotLoader({ redis, keyPrefix, tables, counters });
  const userReads = createUserReads({
    redis,
    keyPrefix,
    tables,
    topic: topics.clickstream,
    partitions: partitions.clickstream,
    ...(options.requestTtlSeconds !== undefined ? { requestTtlSeconds: options.requestTtlSeconds } : {}),
  });

  const entries = createFeedEntryApplier(tables, counters);
  let malformedLogged = false;

  const onClickApplied = options.onClickApplied;
  /** Reports how long each click the entry names took to reach the cache (its `t`, Kafka's timestamps). */
  const noteClickTimes = (fields: string[]) => {
    const times = entryField(fields, FEED_ENTRY_FIELDS.clickTimes);
    if (times === undefined || onClickApplied === undefined) return;
    const now = Date.now();
    for (const text of times.split(' ')) {
      const t = Number(text);
      if (t > 0) onClickApplied(Math.max(0, now - t));
    }
  };

  /** Applies one partition's new entries; false when its position is gone (behind the cap). */
  const readFeed = async (cursor: FeedCursor): Promise<boolean> => {
    const read = await cursor.read(redis, readCount, (fields) => {
      const why = entries.apply(cursor.kind, cursor.tp.partition, fields);
      if (cursor.kind === 'click' && why === null) noteClickTimes(fields);
      if (why === null || malformedLogged) return;
      // Once: a writer that writes one malformed entry usually writes many; the metric counts them all.
      malformedLogged = true;
      log.error(
        { feed: cursor.feed, reason: why },
        `a change-feed entry was refused and skipped (${why}); the cache keeps serving, and further refused entries are only counted (croupier_cache_malformed_entries_total)`,
      );
    });
    if (read === 'advanced') lastApplyDelayMs = Math.max(0, Date.now() - streamIdMs(cursor.position));
    return read !== 'gone';
  };

  /** A fresh snapshot of one partition, unless its marker keeps the last good copy. */
  const resnapshot = async (cursor: FeedCursor): Promise<void> => {
    if (await snapshot(cursor)) counters.resnapshots++;
  };

  const markers = createMarkerWatch({ redis, cursors, resnapshot, markerCheckMs, log });

  const round = async (): Promise<void> => {
    const tailed = cursors.filter((c) => c.health.status !== 'held');
    const ok = await Promise.all(tailed.map(readFeed));
    for (let i = 0; i < tailed.length; i++) {
      if (ok[i]) continue;
      log.warn(
        { feed: tailed[i].feed, position: tailed[i].position },
        'change feed no longer holds the cache position (fell behind the cap, or the feed was reset): taking a fresh snapshot',
      );
      await resnapshot(tailed[i]);
    }
    await markers.check();
    lastSyncAt = Date.now();
    tables.flushChanges();
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
  tables.flushChanges();

  const poller = startFeedPoller(round, pollMs, log);
  const evictTimer =
    evictAfterMs > 0
      ? setInterval(
          () => {
            const evicted = tables.evictIdle(evictAfterMs);
            counters.evictedUsers += evicted.users;
            counters.evictedItems += evicted.items;
          },
          Math.max(1000, Math.min(60_000, evictAfterMs / 4)),
        )
      : undefined;
  evictTimer?.unref();
  log.info(
    { partitions: cursors.length, items: tables.items().length, pollMs },
    'state cache ready, tailing change feeds',
  );

  return {
    items: () => tables.items(),
    arm: (itemId, segment) => tables.arm(itemId, segment),
    itemFeatures: (itemId) => tables.itemFeatures(itemId),
    user: (userId) => tables.user(userId),
    onChange: (listener) => tables.onChange(listener),
    userIds: (limit) => tables.userIds(limit),
    loadUser: userReads.loadUser,
    wasShown: userReads.wasShown,
    claimFeedback: userReads.claimFeedback,
    freshness: () => ({
      lastSyncAgeMs: Date.now() - lastSyncAt,
      lastApplyDelayMs,
      entriesApplied: counters.entriesApplied,
      malformedEntries: counters.malformed,
      resnapshots: counters.resnapshots,
      partitions: cursors.length,
      heldPartitions: markers.counts().held,
      rebuildingPartitions: markers.counts().following,
      evictedUsers: counters.evictedUsers,
      evictedItems: counters.evictedItems,
    }),
    health: () => {
      const health = markers.health();
      // A catalog without an available item deals only empty carousels: not ready until one arrives.
      if (tables.items().length > 0) return health;
      return {
        ready: false,
        reasons: [
          ...health.reasons,
          `no available item in the catalog (none has arrived on ${topics.cdcItems} yet): carousels would be empty`,
        ],
      };
    },
    close: async () => {
      clearInterval(evictTimer);
      await poller.stop();
    },
  };
}
