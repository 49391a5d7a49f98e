/**
 * Redis's eviction policy, watched. croupier's state must never be evicted: with any `maxmemory-policy` but
 * `noeviction`, a Redis at its `maxmemory` removes keys of its own choosing (any key under `allkeys-*`; under
 * `volatile-*` the keys with an expiry, which are the request records and the click claims), and the counters no
 * longer equal a fold of the log while nothing says so. In an attack pass `allkeys-lru` with a `maxmemory` 512 KiB
 * above what was used evicted 2,125 keys in 20 s under traffic, and 1,071 counters then differed from the
 * reference fold of the clickstream while `/readyz` said ready. `noeviction` makes Redis refuse writes instead
 * (`OOM`), which the topology retries. The policy is read from `INFO memory` (`maxmemory_policy`), which managed
 * Redis services answer where `CONFIG` is refused, on every master of a cluster, at start and every `intervalMs`,
 * as an operator can change it at any time.
 */
import { Cluster, type Redis } from 'ioredis';
import { LogLimiter } from '../log/log-limiter.ts';
import type { Logger } from '../log/logger.ts';

export interface EvictionPolicyWatch {
  /** A line for `/readyz`'s warnings while a Redis node evicts keys, else none. */
  warnings(): string[];
  close(): void;
}

/** The policies of the Redis nodes that hold croupier's state (each master of a cluster). */
export async function readEvictionPolicies(redis: Redis | Cluster): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const infos = await Promise.all(nodes.map((node) => node.info('memory')));
  return infos.map((info) => /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? 'noeviction');
}

/**
 * Reads the policy now (not waited for: a Redis that does not answer yet must not hold a start), then every
 * `intervalMs` until closed; a read that fails keeps the last one.
 */
export function watchEvictionPolicy(options: {
  redis: Redis | Cluster;
  intervalMs: number;
  logger: Logger;
}): EvictionPolicyWatch {
  const { redis, logger } = options;
  const limiter = new LogLimiter(60_000);
  let evicting: string[] = [];

  const read = async () => {
    try {
      evicting = [...new Set(await readEvictionPolicies(redis))].filter((p) => p !== 'noeviction');
    } catch (error) {
      limiter.warn(logger, 'read', { err: error }, "could not read Redis's eviction policy");
      return;
    }
    if (evicting.length > 0) {
      limiter.error(logger, 'evicting', { maxmemoryPolicy: evicting }, warningOf(evicting));
    }
  };

  void read();
  const timer = setInterval(() => void read(), options.intervalMs);
  timer.unref();
  return {
    warnings: () => (evicting.length > 0 ? [warningOf(evicting)] : []),
    close() {
      clearInterval(timer);
    },
  };
}

function warningOf(policies: string[]): string {
  return `Redis's maxmemory-policy is ${policies.join(', ')}: at its maxmemory Redis evicts croupier's state and the counters silently stop matching the clickstream; set maxmemory-policy noeviction`;
}
