/**
 * The Redis keys of docs/state-layout.md, built in one place. Every key of partition `p` of `topic` carries
 * the hash tag `{<topic>:<p>}`, so one partition's keys share a slot on Redis Cluster.
 */
export interface PartitionKeys {
  readonly tag: string;
  readonly feed: string;
  readonly offsets: string;
}

export function partitionKeys(prefix: string, topic: string, partition: number): PartitionKeys {
  const tag = `${prefix}{${topic}:${partition}}`;
  return { tag, feed: `${tag}:feed`, offsets: `${tag}:offsets` };
}

export const clickstreamKeys = (prefix: string, topic: string, partition: number) => {
  const base = partitionKeys(prefix, topic, partition);
  return {
    ...base,
    posterior: `${base.tag}:posterior`,
    item: `${base.tag}:item`,
    user: (userId: string) => `${base.tag}:user:${userId}`,
    recent: (userId: string) => `${base.tag}:recent:${userId}`,
    req: (requestId: string) => `${base.tag}:req:${requestId}`,
    stats: `${base.tag}:stats`,
  };
};

export const itemPoolKey = (prefix: string, topic: string, partition: number) =>
  `${partitionKeys(prefix, topic, partition).tag}:items`;

export const userRowsKey = (prefix: string, topic: string, partition: number) =>
  `${partitionKeys(prefix, topic, partition).tag}:users`;
