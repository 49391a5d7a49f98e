/**
 * Data-directory persistence.
 *
 *   DIR/.lock/<token>                               the running broker's pid (embedded/data-dir-lock.ts)
 *   DIR/meta.json                                  cluster id, layout version
 *   DIR/topics/<topic>/topic.json                  partitions and configs
 *   DIR/topics/<topic>/<p>/<base offset>.log       a segment: record batches back to back, as stored
 *   DIR/topics/<topic>/<p>/<base offset>.index     its offset index: one 50-byte entry per batch
 *   DIR/topics/<topic>/<p>/log-start-offset        written when retention moves the start of the log
 *   DIR/groups/offsets.log                          committed group offsets (JSON lines, last one wins)
 *   DIR/txn/coordinator.log                         transaction state and the producer-id counter (JSON lines)
 *
 * A partition's files are kept by DiskPartitionStore (disk-partition-store.ts, which also says what
 * survives a crash), the index entries are laid out in index-entry.ts, and the JSON-lines files are JsonLogs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readJsonFileSync } from '../../config/read-json-file.ts';
import { lockDataDir } from '../../embedded/data-dir-lock.ts';
import { CroupierError } from '../../errors/index.ts';
import type { BrokerState } from '../broker-state.ts';
import type { CommittedOffset } from '../group/coordinator.ts';
import type { Partition, PartitionStore } from '../log/partition.ts';
import type { Topic } from '../log/topics.ts';
import type { TxnSnapshot } from '../txn/coordinator.ts';
import { DiskPartitionStore } from './disk-partition-store.ts';
import { JsonLog } from './json-log.ts';
import type { BrokerStorage } from './storage.ts';

export interface DiskStorageOptions {
  fsync: 'never' | 'always';
  logger: Logger;
}

interface OffsetLine {
  g: string;
  t: string;
  p: number;
  o?: number;
  m?: string | null;
  ts?: number;
  d?: 1;
}

type CoordinatorLine = { type: 'txn'; txn: TxnSnapshot } | { type: 'pid'; next: number };

export class DiskStorage implements BrokerStorage {
  private readonly dir: string;
  private readonly options: DiskStorageOptions;
  private readonly meta: { clusterId: string; version: number };
  private readonly offsets: JsonLog;
  private readonly coordinator: JsonLog;
  private readonly unlock: () => void;
  private segmentBytes = 64 * 1024 * 1024;

  constructor(dir: string, options: DiskStorageOptions) {
    this.dir = dir;
    this.options = options;
    mkdirSync(dir, { recursive: true });
    this.unlock = lockDataDir(
      dir,
      (pid, lock) =>
        new CroupierError(
          'CROUPIER_ERR_BROKER_DATA_DIR',
          `${dir} is the data directory of a broker that runs (process ${pid}; ${lock}): one data directory serves one broker, so give this one its own (broker.dataDir) or stop the other`,
          { dir },
        ),
    );
    try {
      mkdirSync(join(dir, 'topics'), { recursive: true });
      mkdirSync(join(dir, 'groups'), { recursive: true });
      mkdirSync(join(dir, 'txn'), { recursive: true });
      const metaPath = join(dir, 'meta.json');
      if (existsSync(metaPath)) {
        this.meta = readJsonFileSync(metaPath, {
          code: 'CROUPIER_ERR_BROKER_DATA_DIR',
          what: "the broker's metadata",
        }) as typeof this.meta;
      } else {
        this.meta = { clusterId: randomBytes(16).toString('base64url').slice(0, 22), version: 1 };
        writeFileSync(metaPath, `${JSON.stringify(this.meta)}\n`);
      }
      this.offsets = new JsonLog(join(dir, 'groups', 'offsets.log'), options.fsync === 'always');
      this.coordinator = new JsonLog(join(dir, 'txn', 'coordinator.log'), options.fsync === 'always');
    } catch (error) {
      this.unlock();
      throw new CroupierError(
        'CROUPIER_ERR_BROKER_DATA_DIR',
        `cannot use ${dir} as the broker's data directory: ${(error as Error).message}`,
        { dir },
        { cause: error },
      );
    }
  }

  clusterId(): string {
    return this.meta.clusterId;
  }

  private topicDir(name: string): string {
    return join(this.dir, 'topics', name);
  }

  recover(broker: BrokerState): void {
    this.segmentBytes = broker.config.topicDefaults.segmentBytes;
    const started = Date.now();
    let topics = 0;
    for (const name of readdirSync(join(this.dir, 'topics'))) {
      const file = join(this.topicDir(name), 'topic.json');
      if (!existsSync(file)) continue;
      const saved = readJsonFileSync(file, {
        code: 'CROUPIER_ERR_BROKER_DATA_DIR',
        what: 'the topic metadata',
      }) as {
        name: string;
        partitions: number;
        configs: [string, string][];
      };
      broker.restoreTopic(saved.name, saved.partitions, new Map(saved.configs));
      topics++;
    }

    // Group offsets: the last line per (group, topic, partition) wins; the file is compacted.
    const latest = new Map<string, OffsetLine>();
    for (const line of JsonLog.read(join(this.dir, 'groups', 'offsets.log')) as OffsetLine[]) {
      latest.set(JSON.stringify([line.g, line.t, line.p]), line);
    }
    const kept: OffsetLine[] = [];
    for (const line of latest.values()) {
      if (line.d || !broker.topics.has(line.t)) continue;
      kept.push(line);
      broker.groups.restoreOffset(line.g, line.t, line.p, {
        offset: line.o!,
        metadata: line.m ?? '',
        commitTimestamp: line.ts ?? 0,
      });
    }
    this.offsets.rewrite(kept);

    // Transaction coordinator: last snapshot per transactional id, and the producer-id counter.
    const txns = new Map<string, TxnSnapshot>();
    let nextPid = 0;
    for (const line of JsonLog.read(join(this.dir, 'txn', 'coordinator.log')) as CoordinatorLine[]) {
      if (line.type === 'txn') txns.set(line.txn.transactionalId, line.txn);
      else if (line.type === 'pid') nextPid = Math.max(nextPid, line.next);
    }
    broker.txns.setNextProducerId(nextPid);
    for (const t of txns.values()) broker.txns.restore(t);
    this.coordinator.rewrite([
      { type: 'pid', next: nextPid },
      ...[...txns.values()].map((txn) => ({ type: 'txn', txn })),
    ]);
    broker.txns.recoverPrepared();
    this.options.logger.info(
      {
        dir: this.dir,
        topics,
        groupOffsets: kept.length,
        transactionalIds: txns.size,
        ms: Date.now() - started,
      },
      'broker state recovered',
    );
  }

  createTopic(topic: Topic): void {
    const dir = this.topicDir(topic.name);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, 'topic.json.tmp');
    writeFileSync(
      tmp,
      `${JSON.stringify({ name: topic.name, partitions: topic.partitions.length, configs: [...topic.configs] })}\n`,
    );
    renameSync(tmp, join(dir, 'topic.json'));
  }

  deleteTopic(name: string): void {
    rmSync(this.topicDir(name), { recursive: true, force: true });
  }

  openPartition(topic: Topic, partition: Partition): PartitionStore {
    const store = new DiskPartitionStore(
      join(this.topicDir(topic.name), String(partition.index)),
      topic.segmentBytes || this.segmentBytes,
      this.options.fsync === 'always',
      this.options.logger,
    );
    store.recover(partition);
    return store;
  }

  saveOffset(groupId: string, topic: string, partition: number, value: CommittedOffset | null): void {
    if (value) {
      this.offsets.append({
        g: groupId,
        t: topic,
        p: partition,
        o: value.offset,
        m: value.metadata,
        ts: value.commitTimestamp,
      });
    } else {
      this.offsets.append({ g: groupId, t: topic, p: partition, d: 1 });
    }
  }

  saveTxn(snapshot: TxnSnapshot): void {
    this.coordinator.append({ type: 'txn', txn: snapshot });
  }

  saveNextProducerId(next: number): void {
    this.coordinator.append({ type: 'pid', next });
  }

  close(): void {
    this.offsets.close();
    this.coordinator.close();
    this.unlock();
  }
}
