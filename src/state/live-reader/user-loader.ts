/**
 * Loads one user's activity into the live reader's tables on demand (the gateway calls it on hello; decisions never
 * wait on it). The user's clickstream partition is the one Kafka's default partitioner picks for the userId key.
 */
import type { Cluster, Redis } from 'ioredis';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { recentKey, userKey } from '../layout/keys.ts';
import { parseUserActivity } from './parse-state.ts';
import { execMulti } from './snapshot.ts';
import type { StateTables } from './state-tables.ts';

export interface UserLoaderOptions {
  redis: Redis | Cluster;
  keyPrefix: string;
  tables: StateTables;
  /** The clickstream topic (keyed by userId) and its partition count. */
  topic: string;
  partitions: number;
}

/** Returns the function that loads a user's activity unless the tables hold it already. */
export function createUserLoader(options: UserLoaderOptions): (userId: string) => Promise<void> {
  const { redis, keyPrefix: prefix, tables, topic } = options;
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: options.partitions }, (_, i) => ({
    partitionId: i,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));

  return async (userId) => {
    if (tables.hasActivity(userId)) {
      tables.touchUser(userId);
      return;
    }
    const partition = partitioner({ topic, partitionMetadata, message: { key: userId, value: null } });
    const tp = { topic, partition };
    const [hash, recent] = await execMulti(
      redis
        .multi()
        .hgetall(userKey(prefix, tp, userId))
        .lrange(recentKey(prefix, tp, userId), 0, -1),
    );
    const activity = parseUserActivity(hash as Record<string, string>, recent as string[]);
    if (activity !== null && !tables.hasActivity(userId)) tables.setUserActivity(partition, userId, activity);
  };
}
