/**
 * A Kafka log that starts again under the archive's files (a broker without a data dir restarted): the archive
 * resumes by the offsets in its file names and cannot archive the new log's records below them, so it says so
 * (docs/reliability.md, fifth pass): logged, counted as CROUPIER_ERR_ARCHIVE_LOG_RESTARTED, named in its metrics
 * for /readyz's warnings. A log that only grew is not taken for a new one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { startArchive } from '../../src/archive/index.ts';
import { archiveHealthReasons } from '../../src/gateway/archive-health.ts';
import { silentLogger } from '../../src/log/logger.ts';
import {
  archiveConfig,
  archiveTopics,
  clickstreamOver,
  type KafkaStack,
  produceEvents,
  startKafkaStack,
  tempDir,
  waitForArchive,
} from './support/archive-stack.ts';

const stacks: KafkaStack[] = [];
afterAll(async () => {
  for (const stack of stacks) await stack.close();
});

async function archiveOnce(stack: KafkaStack, config: ReturnType<typeof archiveConfig>, dir: string) {
  const archive = await startArchive(
    config,
    { brokers: stack.broker.brokers, registryUrl: stack.registry.url },
    silentLogger(),
  );
  await waitForArchive(createLocalFileSystem(dir), stack, [config.kafka.topics.clickstream]);
  const metrics = archive.metrics();
  await archive.close();
  return metrics;
}

describe('the archive under a Kafka log that starts again', () => {
  it('says that the new log is not archived below its files, and takes a log that grew for the same one', async () => {
    const tmp = await tempDir('log-restart');
    const first = await startKafkaStack();
    stacks.push(first);
    const tag = `arch-restart${Date.now()}`;
    const topics = await archiveTopics(first, tag, 1);
    await produceEvents(first, topics.clickstream, clickstreamOver(300, 1), 1);
    const config = archiveConfig(first, topics, { uri: tmp.dir });
    const firstRun = await archiveOnce(first, config, tmp.dir);
    expect(firstRun.records).toBe(300);
    expect(firstRun.logRestarts).toEqual({});

    // The same log grown: no warning.
    await produceEvents(first, topics.clickstream, clickstreamOver(20, 2), 1);
    const grown = await archiveOnce(first, config, tmp.dir);
    expect(grown.records).toBe(20);
    expect(grown.logRestarts).toEqual({});

    // A new broker: the same topic starts again at offset 0, under files up to offset 319.
    const second = await startKafkaStack();
    stacks.push(second);
    const again = await archiveTopics(second, tag, 1);
    await produceEvents(second, again.clickstream, clickstreamOver(50, 3), 1);
    const archive = await startArchive(
      archiveConfig(second, again, { uri: tmp.dir }),
      { brokers: second.broker.brokers, registryUrl: second.registry.url },
      silentLogger(),
    );
    try {
      const key = `${again.clickstream}:0`;
      let metrics = archive.metrics();
      for (let i = 0; i < 100 && metrics.logRestarts?.[key] === undefined; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        metrics = archive.metrics();
      }
      expect(metrics.logRestarts?.[key]).toMatch(
        new RegExp(
          `archive partition ${key}: the archive holds offsets up to 319 but the log ends at 50 \\(starts at 0\\): the log started again .* records below offset 320 are not archived; set broker\\.dataDir`,
        ),
      );
      expect(metrics.failures.CROUPIER_ERR_ARCHIVE_LOG_RESTARTED).toBe(1);
      expect(archiveHealthReasons(metrics)).toContain(metrics.logRestarts?.[key]);
    } finally {
      await archive.close();
      await tmp.remove();
    }
  });
});
