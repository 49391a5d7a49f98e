import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/domain/decision.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { startEventLog } from '../../src/gateway/event-log.ts';
import { createEventCodec } from '../../src/kafka/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { loadSchemas } from '../../streams/schemas/index.ts';
import { startTestRegistry } from '../support/registry.ts';
import { eventually } from './support.ts';

function decision(requestId: string, items: number): Decision {
  return {
    requestId,
    userId: 'u1',
    items: Array.from({ length: items }, (_, slot) => ({
      itemId: `i${slot}`,
      slot,
      score: 0.1,
      sample: 0.2,
      propensity: 0.5,
    })),
    policy: 'thompson',
    modelVersion: 'm1',
    experiment: null,
    variant: null,
    segment: 'mobile|x',
    shadow: null,
    timings: { featuresUs: 0, scoringUs: 0, samplingUs: 0 },
  };
}

describe('event log', () => {
  it('holds events while Kafka is unreachable, then sheds the oldest beyond its bound without blocking', async () => {
    const registry = await startTestRegistry();
    const port = await freePort();
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${port}`],
      clientId: 'unreachable',
      logLevel: logLevel.NOTHING,
      connectionTimeout: 200,
      retry: { retries: 0 },
    });
    const codec = createEventCodec({ registryUrl: registry.url, schemas: loadSchemas() });
    const log = startEventLog({
      kafka,
      codec,
      topic: 'clickstream',
      logger: silentLogger(),
      bufferMax: 10,
      batchMs: 5,
    });
    try {
      for (let i = 0; i < 5; i++)
        log.logImpressions(decision(`r${i}`, 5), { device: null, country: null, page: null });
      log.logFeedback({ kind: 'click', requestId: 'r4', userId: 'u1', itemId: 'i0', slot: 0, segment: null });
      const stats = log.stats();
      expect(stats.queued).toBe(10);
      expect(stats.shed).toBe(16);
      const failed = await eventually(() => (log.stats().sendFailures > 0 ? log.stats() : undefined));
      expect(failed).toMatchObject({ sent: 0, connected: false });
      expect(failed.queued).toBeLessThanOrEqual(10);
    } finally {
      await log.close();
      await registry.close();
    }
  });
});
