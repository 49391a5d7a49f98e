/**
 * The archive in its own process, for crash tests: started from a config in the environment (ARCHIVE_CHILD,
 * JSON), with the broker and registry it names; prints `ready` once started, closes on SIGTERM. The test kills
 * it with SIGKILL.
 */

import { startArchive } from '../../../src/archive/index.ts';
import { configSchema } from '../../../src/config/index.ts';
import { createLogger } from '../../../src/log/logger.ts';

const config = configSchema.parse(JSON.parse(process.env.ARCHIVE_CHILD ?? '{}'));
const logger = createLogger({ level: 'warn', pretty: false, fd: 2 });
const archive = await startArchive(
  config,
  { brokers: config.kafka.brokers, registryUrl: config.schemaRegistry.url },
  logger,
);
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void archive.close().then(() => process.exit(0));
});
