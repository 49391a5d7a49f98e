/**
 * How long the topology has been retrying (`failingForMs`: the /readyz warning and croupier_stream_retrying_seconds
 * past 5 s) counts only what is still retried: a call that succeeded after its retries counts no more, whether or
 * not a batch follows, and one partition that advances does not hide another that keeps failing.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { StreamMetrics } from '../../streams/metrics.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import { createTopics, testTopics, topologyConfig, useKafkaStackWithRedis } from './support/stack.ts';

const world = useKafkaStackWithRedis();

describe('the time the topology has been retrying', () => {
  it('is 0 once the state scripts load after Redis refused them for longer than the warning waits, with no record to fold', async () => {
    const { stack, redis } = world;
    const topics = testTopics(`retry-warning${Date.now()}`);
    await createTopics(stack.admin, topics, 2);
    // A Redis user the topology connects as, refused the SCRIPT command until it is granted.
    const user = `topology${Date.now()}`;
    await redis.client.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all', '-script');
    const client = new Redis({
      host: redis.server.host,
      port: redis.server.port,
      username: user,
      password: 'secret',
    });
    const config = topologyConfig({
      kafka: { topics },
      redis: { keyPrefix: redis.prefix() },
      stream: { retryInitialMs: 50, retryMaxMs: 200 },
    });
    const starting = startStreamTopology({
      config,
      kafka: stack.kafka,
      codec: stack.codec,
      redis: client,
      logger: silentLogger(),
    });
    await new Promise((r) => setTimeout(r, 6000));
    await redis.client.call('ACL', 'SETUSER', user, '+script');
    const topology = await starting;
    try {
      expect(topology.metrics().retries).toBeGreaterThan(0);
      expect(topology.metrics().lastError).toMatch(/NOPERM|permission/i);
      // Nothing is retried any more and nothing is produced: nothing counts as failing.
      await new Promise((r) => setTimeout(r, 1000));
      expect(topology.metrics().failingForMs).toBe(0);
    } finally {
      await topology.close();
      client.disconnect();
    }
  }, 60_000);

  it('counts a partition that keeps failing while another advances', () => {
    const metrics = new StreamMetrics(() => 0);
    // Partition t:1's batch has failed for 6 s; t:0 advanced ten times meanwhile.
    const since = Date.now() - 6000;
    metrics.retried(new Error('OOM command not allowed'), 't:1', since);
    for (let i = 1; i <= 10; i++) metrics.advanced('t:0', i, since + i * 500);
    expect(metrics.snapshot().failingForMs).toBeGreaterThanOrEqual(6000);
    metrics.retriesEnded('t:1');
    expect(metrics.snapshot().failingForMs).toBe(0);
  });
});
