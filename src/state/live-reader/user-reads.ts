/**
 * Reads one user's state on demand, in the user's clickstream partition (the one Kafka's default partitioner
 * picks for the userId key): `loadUser` loads the activity into the live reader's tables (the gateway calls it
 * on hello; decisions never wait on it), `wasShown` asks whether a request's logged impressions showed an item
 * (how the gateway checks feedback on a carousel another connection dealt), `claimFeedback` takes a click, a
 * conversion or a watch on a request's item for the first connection that asks (so each counts once per item
 * shown, whichever connection or gateway replica it comes through).
 */
import type { Cluster, Redis } from 'ioredis';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import type { FeedbackKind } from '../../domain/protocol-messages.ts';
import { REQUEST_USER_FIELD, type ShownCheck } from '../../domain/state-deltas.ts';
import {
  clickClaimKey,
  feedbackClaimField,
  legacyRequestKey,
  recentKey,
  requestKey,
  userKey,
} from '../layout/keys.ts';
import { parseUserActivity } from './parse-state.ts';
import { execMulti } from './snapshot.ts';
import type { StateTables } from './state-tables.ts';

export interface UserReadsOptions {
  redis: Redis | Cluster;
  keyPrefix: string;
  tables: StateTables;
  /** The clickstream topic (keyed by userId) and its partition count. */
  topic: string;
  partitions: number;
  /** How long a click claim is kept: the attribution window (`stream.requestTtlSeconds`; default 1800). */
  requestTtlSeconds?: number;
}

export interface UserReads {
  /** Loads a user's activity unless the tables hold it already. */
  loadUser(userId: string): Promise<void>;
  /**
   * Whether the impressions of `requestId`, kept for the attribution window, show `itemId` to `userId`; `no record`
   * when there is no record of that request for that user (not dealt, expired, or not folded by the topology yet).
   */
  wasShown(userId: string, requestId: string, itemId: string): Promise<ShownCheck>;
  /**
   * True for the first claim of feedback of `kind` by `userId` on `itemId` of `requestId` (any connection, any
   * replica).
   */
  claimFeedback(userId: string, requestId: string, itemId: string, kind: FeedbackKind): Promise<boolean>;
}

/**
 * The partition kafkajs's default partitioner gives a record keyed by `key` on `topic` of `partitions`
 * partitions: where the gateway's records of a user go, so where that user's state lives.
 */
export function keyPartitioner(topic: string, partitions: number): (key: string) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, i) => ({
    partitionId: i,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  return (key) => partitioner({ topic, partitionMetadata, message: { key, value: null } });
}

export function createUserReads(options: UserReadsOptions): UserReads {
  const { redis, keyPrefix: prefix, tables, topic } = options;
  const partitionOf = keyPartitioner(topic, options.partitions);

  return {
    async loadUser(userId) {
      if (tables.hasActivity(userId)) {
        tables.touchUser(userId);
        return;
      }
      const partition = partitionOf(userId);
      const tp = { topic, partition };
      const [hash, recent] = await execMulti(
        redis
          .multi()
          .hgetall(userKey(prefix, tp, userId))
          .lrange(recentKey(prefix, tp, userId), 0, -1),
      );
      const activity = parseUserActivity(hash as Record<string, string>, recent as string[]);
      if (activity !== null && !tables.hasActivity(userId))
        tables.setUserActivity(partition, userId, activity);
    },
    async wasShown(userId, requestId, itemId) {
      // The request's record is in its user's partition and keyed by that user: another user's request with the
      // same id never counts. A record of the layout before (req:<requestId>) counts while it lives if it names
      // the user.
      const tp = { topic, partition: partitionOf(userId) };
      const key = requestKey(prefix, tp, userId, requestId);
      const [slot, exists, legacy] = await execMulti(
        redis
          .multi()
          .hget(key, itemId)
          .exists(key)
          .hmget(legacyRequestKey(prefix, tp, requestId), itemId, REQUEST_USER_FIELD),
      );
      if (slot !== null) return 'shown';
      const [legacySlot, user] = legacy as (string | null)[];
      if (user === userId) return legacySlot !== null ? 'shown' : 'not shown';
      return Number(exists) === 1 ? 'not shown' : 'no record';
    },
    async claimFeedback(userId, requestId, itemId, kind) {
      const key = clickClaimKey(prefix, { topic, partition: partitionOf(userId) }, requestId);
      const [taken] = await execMulti(
        redis
          .multi()
          .hsetnx(key, feedbackClaimField(userId, itemId, kind), '1')
          .expire(key, options.requestTtlSeconds ?? 1800),
      );
      return Number(taken) === 1;
    },
  };
}
