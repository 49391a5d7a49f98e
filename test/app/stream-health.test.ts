/**
 * `croupier start` reports the stream topology (a worker thread) through the gateway: its lag and partitions
 * not advancing reach /readyz and /metrics, and a topology thread that dies is restarted (not ready meanwhile).
 * The archive's partitions are watched the same way. A thread stuck in a loop is ended by the watchdog: the
 * topology's and the archive's restarted, the broker's reported as a failure croupier cannot go on after.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CroupierHandle, startCroupier } from '../../src/app/start.ts';
import { parseConfig } from '../../src/config/index.ts';
import { createEventCodec, createKafka } from '../../src/kafka/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { partitionKey } from '../../src/state/layout/index.ts';
import { loadSchemas } from '../../streams/schemas/index.ts';

const archiveDir = mkdtempSync(join(tmpdir(), 'stream-health-archive-'));
const config = parseConfig({
  gateway: { port: 0 },
  kafka: { partitions: 2 },
  log: { level: 'silent' },
  demo: { traffic: 'off' },
  // threadWatchdogMs: a thread silent this long is stuck (each reports every second).
  stream: { stallAfterMs: 500, retryMaxMs: 200, sessionTimeoutMs: 6000, threadWatchdogMs: 5000 },
  archive: {
    uri: archiveDir,
    stallAfterMs: 500,
    rotateIntervalMs: 1000,
    idleRotateMs: 300,
    commitIntervalMs: 200,
    retryInitialMs: 50,
    retryMaxMs: 200,
    compactIntervalMs: 0,
    // A restarted archive thread's consumer joins once the stuck one's session has expired.
    sessionTimeoutMs: 6000,
  },
});

let croupier: CroupierHandle;
let redis: Redis;
beforeAll(async () => {
  croupier = await startCroupier({ config, logger: silentLogger() });
  redis = new Redis(croupier.endpoints.redisUrl);
  // A catalog with an item: croupier is not ready while it has none.
  await publishItem('first');
});
afterAll(async () => {
  redis?.disconnect();
  await croupier?.close();
  rmSync(archiveDir, { recursive: true, force: true });
});

const readyz = async () =>
  (await (await fetch(new URL('/readyz', croupier.gatewayUrl))).json()) as {
    ready: boolean;
    reasons: string[];
    warnings: string[];
  };
const metricsText = async () => (await fetch(new URL('/metrics', croupier.gatewayUrl))).text();

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Publishes an available item to cdc.items `partition` (with a Kafka timestamp, when given). */
async function publishItem(itemId: string, timestamp?: number, partition = 0): Promise<void> {
  const kafka = createKafka(config.kafka, croupier.endpoints.brokers);
  const codec = createEventCodec({ registryUrl: croupier.endpoints.registryUrl, schemas: loadSchemas() });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const row = { itemId, title: itemId, category: 'c', tags: [], available: true, createdAt: 1 };
  const source = { connector: 'postgresql', db: 'shop', table: 'items', ts_ms: 1, lsn: null };
  const value = await codec.encode('cdc.items', 'ItemChange', {
    before: null,
    after: row,
    op: 'c',
    ts_ms: Date.now(),
    source,
  });
  await producer.send({
    topic: 'cdc.items',
    messages: [
      {
        key: itemId,
        value,
        partition,
        ...(timestamp === undefined ? {} : { timestamp: String(timestamp) }),
      },
    ],
  });
  await producer.disconnect();
}

describe('croupier start reports its stream topology', () => {
  it('shows lag and a partition that is not advancing on /readyz and /metrics, until it moves again', async () => {
    await until('ready', async () => ((await readyz()).ready ? true : undefined));
    expect(await metricsText()).toMatch(/^croupier_stream_running 1$/m);

    // Something else wrote the partition's offset: the topology cannot apply it and waits, retrying.
    const offsets = partitionKey(config.redis.keyPrefix, { topic: 'cdc.items', partition: 0 }, 'offsets');
    await redis.hset(offsets, config.stream.groupId, 'not-a-number');
    await publishItem('stuck');
    const reasons = await until('the partition is reported', async () => {
      const r = await readyz();
      return r.reasons.some((reason) => reason.includes('cdc.items:0')) ? r.reasons : undefined;
    });
    expect(reasons.join(' ')).toMatch(
      /stream partition cdc\.items:0 has not advanced for \d+ s \(1 records waiting[;)]/,
    );
    const text = await metricsText();
    expect(text).toMatch(/^croupier_stream_stalled_partitions 1$/m);
    expect(text).toMatch(/^croupier_stream_partition_lag_records\{partition="cdc\.items:0"\} 1$/m);

    await redis.hdel(offsets, config.stream.groupId);
    await until('ready again', async () => ((await readyz()).ready ? true : undefined));
    expect(await metricsText()).toMatch(/^croupier_stream_lag_records 0$/m);
  });

  it('reports the CPU and busy event-loop time of each of its threads on /metrics', async () => {
    await until('ready', async () => ((await readyz()).ready ? true : undefined));
    const text = await metricsText();
    const value = (name: string, thread: string) => {
      const match = new RegExp(`^${name}\\{thread="${thread}"\\} (\\S+)$`, 'm').exec(text);
      return match === null ? undefined : Number(match[1]);
    };
    for (const thread of ['gateway', 'broker', 'topology']) {
      expect(value('croupier_thread_event_loop_active_seconds_total', thread), thread).toBeGreaterThan(0);
      // /proc/thread-self names each thread on Linux, where these tests run.
      expect(value('croupier_thread_cpu_seconds_total', thread), thread).toBeGreaterThan(0);
    }
  });

  it('reports the memory of each of its threads on /metrics, the record batches of the broker as its external memory', async () => {
    await until('ready', async () => ((await readyz()).ready ? true : undefined));
    const memory = (text: string, thread: string, kind: string) => {
      const match = new RegExp(
        `^croupier_thread_memory_bytes\\{thread="${thread}",kind="${kind}"\\} (\\S+)$`,
        'm',
      ).exec(text);
      return match === null ? undefined : Number(match[1]);
    };
    const before = await metricsText();
    for (const thread of ['gateway', 'broker', 'topology', 'archive']) {
      const used = memory(before, thread, 'heap_used');
      expect(used, thread).toBeGreaterThan(1_000_000);
      expect(memory(before, thread, 'heap_total'), thread).toBeGreaterThanOrEqual(used ?? Infinity);
      expect(memory(before, thread, 'external'), thread).toBeGreaterThan(0);
    }
    // 8 MiB of records the in-memory broker keeps as Buffers: its thread's external memory grows by about as much
    // once it reports again. Other threads' external memory moves on its own meanwhile (a thread's freed Buffers
    // leave it only when that thread collects garbage; the gateway's moved by 32 MB in one run), so only the
    // broker's growth is asserted.
    const kafka = createKafka(config.kafka, croupier.endpoints.brokers);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < 32; i++)
      await producer.send({
        topic: config.kafka.topics.deadLetter,
        messages: [{ key: `m${i}`, value: randomBytes(256 * 1024), partition: 0 }],
      });
    await producer.disconnect();
    const growth = await until('the broker reports its new records', async () => {
      const text = await metricsText();
      const grown = (memory(text, 'broker', 'external') ?? 0) - (memory(before, 'broker', 'external') ?? 0);
      return grown > 7 * 1024 * 1024 ? grown : undefined;
    });
    expect(growth).toBeGreaterThan(7 * 1024 * 1024);
  });

  it('restarts a topology thread that died, and is not ready until it runs again', async () => {
    await croupier.topology.crash();
    const reasons = await until('not ready', async () => {
      const r = await readyz();
      return r.ready ? undefined : r.reasons;
    });
    expect(reasons).toContain('stream topology is not running (starting or restarting)');
    await until('ready again', async () => ((await readyz()).ready ? true : undefined));
    expect(await metricsText()).toMatch(/^croupier_stream_restarts_total 1$/m);
  });

  it('warns of an archive partition whose records wait and do not move on /readyz and /metrics, still ready, until it moves', async () => {
    await until('ready', async () => ((await readyz()).ready ? true : undefined));
    expect(await metricsText()).toMatch(/^croupier_archive_stalled_partitions 0$/m);
    // The archive cannot commit the file of a record of 2020-01-01: a plain file sits where its date directory goes.
    mkdirSync(join(archiveDir, 'cdc.items'), { recursive: true });
    const blocker = join(archiveDir, 'cdc.items', 'date=2020-01-01');
    writeFileSync(blocker, 'not a directory');
    await publishItem('archived-late', Date.parse('2020-01-01T12:00:00Z'));
    const report = await until('the archive partition is reported', async () => {
      const r = await readyz();
      return r.warnings.some((warning) => warning.startsWith('archive partition cdc.items:0'))
        ? r
        : undefined;
    });
    // The carousels do not depend on the archive: the gateway stays in rotation, the warning says what is wrong.
    expect(report.ready).toBe(true);
    expect(report.reasons).toEqual([]);
    expect(report.warnings.join(' ')).toMatch(
      /archive partition cdc\.items:0 has not advanced for \d+ s \(1 records waiting; last error: /,
    );
    const text = await metricsText();
    expect(text).toMatch(/^croupier_archive_stalled_partitions 1$/m);
    expect(text).toMatch(/^croupier_archive_partition_lag_records\{partition="cdc\.items:0"\} 1$/m);
    expect(text).toMatch(/^croupier_archive_partition_stalled_seconds\{partition="cdc\.items:0"\} \d/m);

    rmSync(blocker);
    await until('the warning gone', async () => ((await readyz()).warnings.length === 0 ? true : undefined));
    expect(await metricsText()).toMatch(/^croupier_archive_lag_records 0$/m);
  });

  it('warns of a partition a client that is not croupier holds in its consumer group, until it leaves', async () => {
    await until('ready', async () => ((await readyz()).ready ? true : undefined));
    // A kafkajs client joins the topology's group and reads cdc.items without applying anything to Redis.
    const kafka = createKafka(config.kafka, croupier.endpoints.brokers);
    const foreign = kafka.consumer({ groupId: config.stream.groupId, sessionTimeout: 6000 });
    const held: number[] = [];
    foreign.on(foreign.events.GROUP_JOIN, (event) => {
      held.splice(0, held.length, ...(event.payload.memberAssignment['cdc.items'] ?? []));
    });
    await foreign.connect();
    await foreign.subscribe({ topics: ['cdc.items'] });
    await foreign.run({ eachMessage: async () => undefined });
    try {
      await until('the client holds a partition', async () => (held.length > 0 ? true : undefined));
      const partition = held[0];
      await publishItem('held-elsewhere', undefined, partition);
      const report = await until('the partition is reported', async () => {
        const r = await readyz();
        return r.warnings.some((w) =>
          w.startsWith(`stream partition cdc.items:${partition}, held by another`),
        )
          ? r
          : undefined;
      });
      expect(report.warnings.join(' ')).toMatch(
        new RegExp(`cdc\\.items:${partition}, held by another member .* \\(1 records waiting\\)`),
      );
      expect(await metricsText()).toMatch(/^croupier_stream_stalled_elsewhere_partitions [1-9]$/m);
    } finally {
      await foreign.disconnect();
    }
    // The partition comes back to croupier, which applies what waited.
    await until('the warning gone', async () =>
      (await readyz()).warnings.some((w) => w.includes('held by another')) ? undefined : true,
    );
    const items = partitionKey(config.redis.keyPrefix, { topic: 'cdc.items', partition: held[0] }, 'items');
    await until('the item folded', async () =>
      (await redis.hexists(items, 'held-elsewhere')) === 1 ? true : undefined,
    );
  });

  it("warns on /readyz while Redis refuses the topology's writes (OOM), naming the error, until it takes them", async () => {
    await until('ready', async () => ((await readyz()).ready ? true : undefined));
    const retrying = (warnings: string[]) =>
      warnings.find((w) => w.startsWith('stream topology has retried for'));
    expect(retrying((await readyz()).warnings)).toBeUndefined();
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await redis.config('SET', 'maxmemory', '1');
    try {
      await publishItem('while-redis-is-full');
      const warning = await until('warned', async () => retrying((await readyz()).warnings));
      expect(warning).toMatch(/\(last error: OOM command not allowed when used memory > 'maxmemory'/);
      expect(await metricsText()).toMatch(/^croupier_stream_retrying_seconds [1-9][0-9.]*$/m);
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
    const items = partitionKey(config.redis.keyPrefix, { topic: 'cdc.items', partition: 0 }, 'items');
    await until('the item folded', async () =>
      (await redis.hexists(items, 'while-redis-is-full')) === 1 ? true : undefined,
    );
    await until('no longer warned', async () =>
      retrying((await readyz()).warnings) === undefined ? true : undefined,
    );
    expect(await metricsText()).toMatch(/^croupier_stream_retrying_seconds 0$/m);
  });

  it('ends a topology thread stuck in a loop and restarts it', async () => {
    await until('ready', async () => ((await readyz()).ready ? true : undefined));
    const before = croupier.topology.health().restarts;
    croupier.topology.hang();
    await until('restarted', async () => (croupier.topology.health().restarts > before ? true : undefined));
    await until('ready again', async () => ((await readyz()).ready ? true : undefined));
    expect(await metricsText()).toMatch(new RegExp(`^croupier_stream_restarts_total ${before + 1}$`, 'm'));
    // The new thread folds what comes next.
    await publishItem('after-the-hang');
    const items = partitionKey(config.redis.keyPrefix, { topic: 'cdc.items', partition: 0 }, 'items');
    await until('the item folded', async () =>
      (await redis.hexists(items, 'after-the-hang')) === 1 ? true : undefined,
    );
  });

  it('ends an archive thread stuck in a loop and restarts it, which archives what comes next', async () => {
    const archive = croupier.archive!;
    expect(archive.restarts()).toBe(0);
    archive.hang();
    await until('restarted', async () => (archive.restarts() === 1 && archive.running() ? true : undefined));
    const files = () =>
      readdirSync(archiveDir, { recursive: true }).filter((f) => String(f).endsWith('.parquet'));
    const committed = files().length;
    await publishItem('archived-after-the-hang');
    await until('a new file committed', async () => (files().length > committed ? true : undefined));
  });

  it("reports a stuck embedded broker's thread as a failure croupier cannot go on after", async () => {
    croupier.broker!.hang();
    const reason = await croupier.failed;
    expect(reason.code).toBe('CROUPIER_ERR_CHILD_PROCESS');
    expect(reason.message).toMatch(/embedded broker's thread stopped/);
  });
});
