/**
 * A stream topology in its own process, for crash tests: started from a JSON description in the environment
 * (TOPOLOGY_CHILD), logging pino JSON to stdout, closing cleanly on SIGTERM. The test kills it with SIGKILL.
 * With TOPOLOGY_CHILD_WAIT=1 it loads everything, then waits for a line on stdin before starting the topology.
 */
import { Cluster, Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { configSchema } from '../../../src/config/index.ts';
import { createEventCodec } from '../../../src/kafka/index.ts';
import { loadSchemas } from '../../../streams/schemas/index.ts';
import { startStreamTopology } from '../../../streams/topology.ts';

export interface ChildDescription {
  brokers: string[];
  registryUrl: string;
  redis: { host: string; port: number } | { cluster: string[] };
  config: unknown;
}

const description = JSON.parse(process.env.TOPOLOGY_CHILD ?? '{}') as ChildDescription;
const config = configSchema.parse(description.config);
const logger = pino({ level: 'info', base: { pid: process.pid } }, pino.destination({ fd: 1, sync: true }));
const kafka = new Kafka({
  brokers: description.brokers,
  clientId: 'crash-child',
  logLevel: logLevel.NOTHING,
});
const codec = createEventCodec({ registryUrl: description.registryUrl, schemas: loadSchemas() });
const redis =
  'cluster' in description.redis
    ? new Cluster(
        description.redis.cluster.map((seed) => {
          const [host, port] = seed.split(':');
          return { host, port: Number(port) };
        }),
      )
    : new Redis({ ...description.redis, maxRetriesPerRequest: 1 });

redis.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection error'));
// A warm spare: modules loaded and clients created, the topology starts on the first line on stdin.
if (process.env.TOPOLOGY_CHILD_WAIT === '1')
  await new Promise((resolve) => process.stdin.once('data', resolve));
const topology = await startStreamTopology({ config, kafka, codec, redis, logger });
process.once('SIGTERM', () => {
  void topology.close().then(() => {
    redis.disconnect();
    process.exit(0);
  });
});
