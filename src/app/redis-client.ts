/** The ioredis client for the resolved endpoints: a Cluster when seed nodes are given, else a single Redis. */
import { Cluster, Redis } from 'ioredis';
import type { Endpoints } from './embedded.ts';

export function createRedisClient(
  endpoints: Pick<Endpoints, 'redisUrl' | 'redisClusterNodes'>,
): Redis | Cluster {
  if (endpoints.redisClusterNodes.length > 0) {
    return new Cluster(
      endpoints.redisClusterNodes.map((node) => {
        const at = node.lastIndexOf(':');
        return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
      }),
      { enableAutoPipelining: true },
    );
  }
  return new Redis(endpoints.redisUrl, { enableAutoPipelining: true });
}
