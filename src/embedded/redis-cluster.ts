/**
 * A Redis Cluster of N masters on free loopback ports, built from `redis-server --cluster-enabled yes`
 * processes: slots split evenly, nodes introduced with CLUSTER MEET, ready when every node reports
 * `cluster_state:ok`. Used by tests to prove every script touches a single slot.
 */
import { Redis } from 'ioredis';
import { CroupierError } from '../errors/index.ts';
import { type RedisServerHandle, startRedisServer } from './redis-server.ts';

export interface RedisClusterHandle {
  readonly nodes: readonly RedisServerHandle[];
  /** `host:port` of every master. */
  readonly seeds: readonly string[];
  close(): Promise<void>;
}

const SLOTS = 16384;

export async function startRedisCluster(masters = 3, binary?: string): Promise<RedisClusterHandle> {
  const nodes = await Promise.all(
    Array.from({ length: masters }, () => startRedisServer({ cluster: true, binary })),
  );
  const clients = nodes.map((n) => new Redis({ host: n.host, port: n.port, lazyConnect: false }));
  try {
    for (let i = 0; i < masters; i++) {
      const from = Math.floor((i * SLOTS) / masters);
      const to = Math.floor(((i + 1) * SLOTS) / masters) - 1;
      await clients[i].call('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
    }
    for (let i = 1; i < masters; i++) {
      const bus = nodes[i].clusterBusPort ?? nodes[i].port + 10_000;
      await clients[0].call('CLUSTER', 'MEET', nodes[i].host, String(nodes[i].port), String(bus));
    }
    const deadline = Date.now() + 20_000;
    for (;;) {
      const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO') as Promise<string>));
      const ok = infos.every(
        (info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`),
      );
      if (ok) break;
      if (Date.now() > deadline) {
        throw new CroupierError(
          'CROUPIER_ERR_REDIS_START',
          `Redis Cluster of ${masters} did not become ready in 20 s`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.close()));
    throw error;
  } finally {
    for (const c of clients) c.disconnect();
  }
  return {
    nodes,
    seeds: nodes.map((n) => `${n.host}:${n.port}`),
    async close() {
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}
