/**
 * Two Kafka clusters' archives on one archive directory (two `croupier start`s on their defaults in one
 * directory, each with its own in-memory broker). Each cluster's log looks, to the other's archive, like a log
 * that started again; without the cluster lease each took the other's every commit for one and archived its
 * whole log again under a new epoch, without end. Now the second waits while the first runs (reported), and
 * archives its own log under the next epoch once the first has stopped.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BeatWatch, clusterDirOf, startClusterLease } from '../../src/archive/cluster-lease.ts';
import { commitFile } from '../../src/archive/commit.ts';
import type { ArchiveFileSystem } from '../../src/archive/fs/archive-fs.ts';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { parseArchiveUri } from '../../src/archive/fs/open.ts';
import { createWebHdfsFileSystem } from '../../src/archive/fs/webhdfs-fs.ts';
import { openDuckDb, startArchive } from '../../src/archive/index.ts';
import { epochOf } from '../../src/archive/layout.ts';
import type { MarkerClaimant } from '../../src/archive/marker-claim.ts';
import { ArchiveMetrics } from '../../src/archive/metrics.ts';
import { parseMarker, serializeMarker } from '../../src/archive/recovery.ts';
import { listTopicFiles } from '../../src/archive/scan.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { startWebHdfsServer } from '../support/webhdfs-server.ts';
import {
  archiveConfig,
  archiveTopics,
  clickstreamOver,
  endOffsets,
  type KafkaStack,
  offsetCensus,
  produceEvents,
  startKafkaStack,
  tempDir,
  waitForArchive,
} from './support/archive-stack.ts';

const OTHER = 'CROUPIER_ERR_ARCHIVE_OTHER_CLUSTER';
const RESTARTED = 'CROUPIER_ERR_ARCHIVE_LOG_RESTARTED';
const stacks: KafkaStack[] = [];
let duckdb: DuckDBInstance;
beforeAll(async () => {
  duckdb = await openDuckDb();
});
afterAll(async () => {
  duckdb.closeSync();
  for (const stack of stacks) await stack.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the cluster a partition marker names', () => {
  const beat = (holder: string, beatAt: number) => ({
    cluster: 'X',
    holder,
    pid: 1,
    host: 'h',
    beatAt,
    leaseMs: 1000,
  });

  it('is named in the partition marker, and its lease directory is a plain name', () => {
    const marker = {
      topic: 't',
      partition: 0,
      epoch: 2,
      cluster: 'X',
      endOffset: 9,
      file: 'f',
      pending: null,
    };
    expect(parseMarker(serializeMarker(marker), 't', 0)).toEqual({ ...marker, last: null });
    expect(parseMarker(serializeMarker({ ...marker, cluster: '' }), 't', 0)).not.toHaveProperty('cluster');
    expect(clusterDirOf('AbC_-9')).toBe('+clusters/AbC_-9');
    expect(clusterDirOf('../x')).toMatch(/^\+clusters\/[0-9a-f]{64}$/);
  });

  it('judges a lease by whether it is seen renewed, whatever the clock of the host that wrote it', () => {
    const watch = new BeatWatch();
    // Written by a host whose clock is an hour ahead, and never renewed: it holds for its lease, then not.
    const ahead = beat('ahead', Date.now() + 3_600_000);
    expect(watch.holds(ahead, 0)).toBe(true);
    expect(watch.holds(ahead, 900)).toBe(true);
    expect(watch.holds(ahead, 1100)).toBe(false);
    // Written by a host whose clock is an hour behind, renewed every 300 ms: it holds throughout.
    const behind = Date.now() - 3_600_000;
    for (let t = 0; t <= 3000; t += 300) expect(watch.holds(beat('behind', behind + t), t)).toBe(true);
    expect(watch.holds(beat('behind', behind + 3000), 4100)).toBe(false);
    expect(watch.unchangedFor(beat('behind', behind + 3000), 4100)).toBe(1100);
  });
});

describe('a lease left by an archive killed without its close', () => {
  it('is waited for while it could still be renewed, then taken over and removed', async () => {
    const tmp = await tempDir('dead-lease');
    const fs = createLocalFileSystem(tmp.dir);
    const marker = {
      topic: 't',
      partition: 0,
      epoch: 0,
      cluster: 'X',
      endOffset: 9,
      file: null,
      pending: null,
    };
    await fs.writeText('+offsets/t/0.json', serializeMarker(marker));
    // The dead archive's last beat, stamped by a clock an hour ahead of this one.
    const dead = {
      cluster: 'X',
      holder: 'dead',
      pid: 1,
      host: 'h',
      beatAt: Date.now() + 3_600_000,
      leaseMs: 400,
    };
    await fs.writeText('+clusters/X/dead.json', JSON.stringify(dead));
    const lease = await startClusterLease({
      fs,
      clusterId: async () => 'Y',
      leaseMs: 400,
      logger: silentLogger(),
    });
    try {
      const first = await lease.heldElsewhere('t', 0);
      expect(first?.code).toBe('CROUPIER_ERR_ARCHIVE_OTHER_CLUSTER');
      expect(first?.message).toContain('cluster id X; 1 consumer(s) alive: process 1 on h');
      await sleep(500);
      expect(await lease.heldElsewhere('t', 0)).toBeNull();
      await sleep(400);
      expect(await lease.heldElsewhere('t', 0)).toBeNull();
      expect(await fs.list('+clusters/X')).toEqual([]);
      // Its own lease is there while it runs, and gone once it is closed.
      // (A beat being written meanwhile is a `.tmp` file beside it.)
      const leases = (await fs.list('+clusters/Y')).filter((e) => e.name.endsWith('.json'));
      expect(leases).toHaveLength(1);
    } finally {
      await lease.close();
    }
    expect(await fs.list('+clusters/Y')).toEqual([]);
    await tmp.remove();
  });
});

/** A finished file of `cluster`'s log, committed into partition `partition` over the marker `markerText`. */
async function commitOf(
  fs: ArchiveFileSystem,
  c: {
    partition: number;
    cluster: string;
    end: number;
    markerText: string | null;
    epoch?: number;
    claimant?: MarkerClaimant;
  },
) {
  const localPath = path.join(fs.stagingDir, `staged-${c.partition}-${c.cluster}`);
  await mkdir(fs.stagingDir, { recursive: true });
  await writeFile(localPath, `the rows of ${c.cluster}`);
  return commitFile({
    fs,
    file: { topic: 't', partition: c.partition, start: 0, end: c.end, format: 'parquet', epoch: c.epoch },
    dir: DIR,
    localPath,
    bytes: 17,
    markerText: c.markerText,
    committedEnd: -1,
    committedFile: null,
    committedLast: null,
    last: { offset: c.end, timestamp: 1, sha256: c.cluster.repeat(64) },
    cluster: c.cluster,
    claimant: c.claimant ?? { holder: c.cluster, holds: async () => true, holdsUnreadable: () => true },
    retry: { initialMs: 5, maxMs: 5, live: () => true },
    logger: silentLogger(),
    metrics: new ArchiveMetrics(),
  });
}
const DIR = 't/date=2026-03-01/hour=09';

/** The marker of a cluster whose archive stopped after committing offsets 0-9 of `partition` in epoch 0. */
const stoppedMarker = (partition: number) =>
  serializeMarker({
    topic: 't',
    partition,
    epoch: 0,
    cluster: 'stopped',
    endOffset: 9,
    file: `${DIR}/t+${partition}+0000000000000000000+0000000000000000009.parquet`,
    last: { offset: 9, timestamp: 1, sha256: 'f'.repeat(64) },
    pending: null,
  });

/** A local archive directory (with its `+tmp`) and a live lease of cluster b's archive on it. */
async function archiveWithLease(name: string, leaseMs: number) {
  const tmp = await tempDir(name);
  const fs = createLocalFileSystem(tmp.dir);
  await fs.mkdirs('+tmp');
  const lease = await startClusterLease({ fs, clusterId: async () => 'b', leaseMs, logger: silentLogger() });
  return { tmp, fs, lease };
}

/** Puts the stopped cluster's marker of `partition` in place with a claim file of it holding `claim`; its text. */
async function markerClaimed(fs: ArchiveFileSystem, partition: number, claim: string): Promise<string> {
  const markerText = stoppedMarker(partition);
  await fs.writeText(`+offsets/t/${partition}.json`, markerText);
  const hash = createHash('sha256').update(markerText).digest('hex').slice(0, 32);
  await fs.writeText(`+offsets/t/${partition}.claims/${hash}.1.json`, claim);
  return markerText;
}

/**
 * Races two further clusters' archives (each with its live lease) taking over a stopped cluster's partition in ten
 * rounds: each commits its first file of epoch 1 over the stopped one's marker. Resolves to each round's outcome.
 */
async function raceTakeovers(fs: ArchiveFileSystem) {
  const leases = await Promise.all(
    ['b', 'c'].map((c) =>
      startClusterLease({ fs, clusterId: async () => c, leaseMs: 30_000, logger: silentLogger() }),
    ),
  );
  const rounds: { fenced: string[]; committed: number; markerCluster: string | null | undefined }[] = [];
  try {
    for (let round = 0; round < 10; round++) {
      const markerText = stoppedMarker(round);
      await fs.writeText(`+offsets/t/${round}.json`, markerText);
      const results = await Promise.allSettled(
        leases.map((lease, i) =>
          commitOf(fs, {
            partition: round,
            cluster: lease.cluster ?? '',
            end: 9 + 5 * i,
            markerText,
            epoch: 1,
            claimant: lease,
          }),
        ),
      );
      const fenced = results.flatMap((r) => (r.status === 'rejected' ? [r.reason.code as string] : []));
      const committed = (await fs.list(DIR)).filter((f) => f.name.startsWith(`t+${round}+e000001+`)).length;
      const marker = parseMarker((await fs.readText(`+offsets/t/${round}.json`)) ?? '', 't', round);
      rounds.push({ fenced, committed, markerCluster: marker?.cluster });
    }
  } finally {
    for (const lease of leases) await lease.close();
  }
  return rounds;
}

describe('two Kafka clusters archived into one directory', () => {
  it('commits one of two first files raced into a partition that has no marker yet', async () => {
    const tmp = await tempDir('first-marker');
    const fs = createLocalFileSystem(tmp.dir);
    await fs.mkdirs('+tmp');
    for (let round = 0; round < 10; round++) {
      const results = await Promise.allSettled([
        commitOf(fs, { partition: round, cluster: 'a', end: 9, markerText: null }),
        commitOf(fs, { partition: round, cluster: 'b', end: 14, markerText: null }),
      ]);
      const refused = results.filter((r) => r.status === 'rejected');
      expect(refused).toHaveLength(1);
      expect((refused[0] as PromiseRejectedResult).reason.code).toBe('CROUPIER_ERR_ARCHIVE_FENCED');
      const files = (await fs.list(DIR)).filter((f) => f.name.startsWith(`t+${round}+`));
      expect(files).toHaveLength(1);
    }
    await tmp.remove();
  });

  it("commits one of two takeovers of a stopped cluster's partition raced on a local directory", async () => {
    const tmp = await tempDir('takeover-race');
    const fs = createLocalFileSystem(tmp.dir);
    await fs.mkdirs('+tmp');
    for (const round of await raceTakeovers(fs)) {
      expect(round.fenced).toEqual(['CROUPIER_ERR_ARCHIVE_FENCED']);
      expect(round.committed).toBe(1);
      expect(['b', 'c']).toContain(round.markerCluster);
    }
    // The claims of the markers replaced are gone with them.
    expect(await fs.list('+offsets/t/0.claims')).toEqual([]);
    await tmp.remove();
  });

  it('commits one of two takeovers raced through WebHDFS and HttpFS', async () => {
    for (const httpfs of [false, true]) {
      const server = await startWebHdfsServer({ httpfs });
      const staging = await tempDir(`takeover-race-hdfs-${httpfs}`);
      const location = parseArchiveUri(server.uri('/data/archive'));
      if (location.kind !== 'webhdfs') throw new Error(`not a WebHDFS location: ${location.kind}`);
      const fs = createWebHdfsFileSystem({
        baseUrl: location.baseUrl,
        root: location.root,
        user: 'croupier',
        httpfs,
        requestTimeoutMs: 10_000,
        stagingDir: staging.dir,
      });
      await fs.mkdirs('+tmp');
      for (const round of await raceTakeovers(fs)) {
        expect(round.fenced).toEqual(['CROUPIER_ERR_ARCHIVE_FENCED']);
        expect(round.committed).toBe(1);
      }
      await server.close();
      await staging.remove();
    }
  });

  it("passes over the claim of an archive that stopped between its claim and its marker, never a live one's", async () => {
    const { tmp, fs, lease } = await archiveWithLease('stale-claim', 30_000);
    const other = await startClusterLease({
      fs,
      clusterId: async () => 'c',
      leaseMs: 30_000,
      logger: silentLogger(),
    });
    try {
      const claimed = async (partition: number, claim: object) => {
        const markerText = await markerClaimed(fs, partition, JSON.stringify(claim));
        return commitOf(fs, { partition, cluster: 'b', end: 9, markerText, epoch: 1, claimant: lease });
      };
      // A consumer of cluster d that no longer renews a lease: its claim does not hold the partition.
      await claimed(0, { token: 'x', holder: 'gone', cluster: 'd' });
      expect(parseMarker((await fs.readText('+offsets/t/0.json')) ?? '', 't', 0)?.cluster).toBe('b');
      // A live consumer of cluster c (between its claim and its write): the commit is fenced.
      await expect(claimed(1, { token: 'y', holder: other.holder, cluster: 'c' })).rejects.toMatchObject({
        code: 'CROUPIER_ERR_ARCHIVE_FENCED',
      });
      expect(parseMarker((await fs.readText('+offsets/t/1.json')) ?? '', 't', 1)?.cluster).toBe('stopped');
    } finally {
      await lease.close();
      await other.close();
    }
    await tmp.remove();
  });

  it('passes over a claim that cannot be read (empty, or torn) once it has stayed so for a lease, and keeps no claim of an earlier marker', async () => {
    const { tmp, fs, lease } = await archiveWithLease('torn-claim', 300);
    try {
      for (const [partition, torn] of [
        [0, ''],
        [1, '{"token":"x","hol'],
      ] as const) {
        const markerText = await markerClaimed(fs, partition, torn);
        // A claim of an earlier marker, left by a consumer that stopped after it wrote the marker it claimed.
        await fs.writeText(`+offsets/t/${partition}.claims/${'0'.repeat(32)}.1.json`, '{"token":"old"}');
        const commit = () =>
          commitOf(fs, { partition, cluster: 'b', end: 9, markerText, epoch: 1, claimant: lease });
        // Seen for the first time it may be a claim still being written: the commit is fenced.
        await expect(commit()).rejects.toMatchObject({ code: 'CROUPIER_ERR_ARCHIVE_FENCED' });
        // Tried again as the writer does, it commits once the claim has stayed unreadable for the lease.
        let committed = false;
        for (let attempt = 0; attempt < 100 && !committed; attempt++) {
          await new Promise((r) => setTimeout(r, 50));
          committed = await commit().then(
            () => true,
            () => false,
          );
        }
        expect(committed).toBe(true);
        expect(
          parseMarker((await fs.readText(`+offsets/t/${partition}.json`)) ?? '', 't', partition)?.cluster,
        ).toBe('b');
        expect(await fs.list(`+offsets/t/${partition}.claims`)).toEqual([]);
      }
    } finally {
      await lease.close();
    }
    await tmp.remove();
  });

  it('lets one archive at a time write, and the other take over under the next epoch once it stops', async () => {
    const tmp = await tempDir('two-clusters');
    const tag = `arch-two${Date.now()}`;
    const first = await startKafkaStack();
    stacks.push(first);
    const second = await startKafkaStack();
    stacks.push(second);
    const topics = await archiveTopics(first, tag, 2);
    await archiveTopics(second, tag, 2);
    const topic = topics.clickstream;
    const glob = path.join(tmp.dir, topic, '**', '*.parquet');
    const fs = createLocalFileSystem(tmp.dir);
    const epochs = async () => [...new Set((await listTopicFiles(fs, topic)).map(epochOf))].sort();
    const settings = { uri: tmp.dir, clusterLeaseMs: 1500 };
    const endpoints = (stack: KafkaStack) => ({
      brokers: stack.broker.brokers,
      registryUrl: stack.registry.url,
    });

    await produceEvents(first, topic, clickstreamOver(300, 1), 2);
    await produceEvents(second, topic, clickstreamOver(200, 2), 2);
    const a = await startArchive(archiveConfig(first, topics, settings), endpoints(first), silentLogger());
    await waitForArchive(fs, first, [topic], 60_000, 0);

    // The second cluster's archive starts beside the running first, and both logs keep growing.
    const b = await startArchive(archiveConfig(second, topics, settings), endpoints(second), silentLogger());
    for (let i = 0; i < 6; i++) {
      await produceEvents(first, topic, clickstreamOver(20, 10 + i), 2);
      await produceEvents(second, topic, clickstreamOver(20, 20 + i), 2);
      await sleep(700);
    }
    await waitForArchive(fs, first, [topic], 60_000, 0);
    const whileBoth = { a: a.metrics(), b: b.metrics(), epochs: await epochs() };
    // Before the lease, each took the other's commits for a restarted log: epochs 1, 2, 3… every few hundred ms.
    expect(whileBoth.epochs).toEqual([0]);
    expect(whileBoth.a.failures[RESTARTED]).toBeUndefined();
    expect(whileBoth.b.failures[RESTARTED]).toBeUndefined();
    expect(whileBoth.b.records).toBe(0);
    expect(whileBoth.b.failures[OTHER]).toBeGreaterThan(0);
    expect(whileBoth.b.lastError).toMatch(
      /is written by the archive of another Kafka cluster \(cluster id [A-Za-z0-9_-]+; 1 consumer\(s\) alive: process \d+ on .*; its lease last renewed within \d+ ms\) than this one's \(cluster id [A-Za-z0-9_-]+\)\. Two Kafka clusters cannot share an archive directory: give each its own archive\.uri/,
    );
    const firstHighs = await endOffsets(first, topic);
    expect(await offsetCensus(duckdb, glob, firstHighs, 0)).toEqual({
      rows: 420,
      duplicates: 0,
      missing: 0,
    });

    // The first stops (its lease removed): the second archives its whole log as epoch 1.
    await a.close();
    await waitForArchive(fs, second, [topic], 60_000, 1);
    // Read once it has closed: a commit counts its records after its file is in place, where waitForArchive sees it.
    await b.close();
    const after = b.metrics();
    expect(after.records).toBe(320);
    expect(after.failures[RESTARTED]).toBe(2); // one new epoch per partition
    expect(await epochs()).toEqual([0, 1]);
    expect(await offsetCensus(duckdb, glob, await endOffsets(second, topic), 1)).toEqual({
      rows: 320,
      duplicates: 0,
      missing: 0,
    });
    expect(await offsetCensus(duckdb, glob, firstHighs, 0)).toEqual({
      rows: 420,
      duplicates: 0,
      missing: 0,
    });
    // Both stopped cleanly: no lease, no file being written is left.
    expect((await fs.list('+clusters')).flatMap((d) => d.name)).toHaveLength(2);
    for (const dir of await fs.list('+clusters')) expect(await fs.list(`+clusters/${dir.name}`)).toEqual([]);
    expect((await fs.list('+tmp')).filter((e) => e.type === 'file')).toEqual([]);
    await tmp.remove();
  }, 180_000);
});
