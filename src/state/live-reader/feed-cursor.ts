/**
 * A cursor that tails one partition's change feed (`P{<topic>:<p>}:feed`, docs/state-layout.md) from the id of the
 * last entry applied. `XRANGE <position> + COUNT n` starts at (and includes) the position, so a cursor that fell
 * behind the feed's cap sees that its position is gone and asks for a fresh snapshot of its partition.
 */
import type { Cluster, Redis } from 'ioredis';
import { partitionKey, type TopicPartition } from '../layout/keys.ts';
import { PartitionHealth } from './partition-health.ts';

/** What a feed holds: clickstream state, `cdc.items` rows or `cdc.users` rows. */
export type FeedKind = 'click' | 'items' | 'users';

/** What one read did: `gone` when the position is no longer in the feed (take a fresh snapshot). */
export type FeedRead = 'gone' | 'unchanged' | 'advanced';

export class FeedCursor {
  readonly feed: string;
  /** The partition's marker key (docs/state-layout.md, "Marker"). */
  readonly marker: string;
  /** Whether the tables' copy of the partition is whole (partition-health.ts). */
  readonly health = new PartitionHealth();
  /** Last applied entry id, or a synthetic `<ms>-0` taken from Redis TIME when the feed was empty. */
  position = '0-0';
  synthetic = true;

  constructor(
    readonly kind: FeedKind,
    readonly tp: TopicPartition,
    keyPrefix: string,
  ) {
    this.feed = partitionKey(keyPrefix, tp, 'feed');
    this.marker = partitionKey(keyPrefix, tp, 'marker');
  }

  /** Starts after a snapshot from its `XREVRANGE feed + - COUNT 1` and `TIME` replies. */
  startAt(newestEntry: unknown, time: unknown): void {
    const newest =
      Array.isArray(newestEntry) && Array.isArray(newestEntry[0]) ? String(newestEntry[0][0]) : null;
    if (newest !== null) {
      this.position = newest;
      this.synthetic = false;
    } else {
      const seconds = Array.isArray(time) ? Number(time[0]) : Math.floor(Date.now() / 1000);
      const micros = Array.isArray(time) ? Number(time[1]) : 0;
      this.position = `${seconds * 1000 + Math.floor(micros / 1000)}-0`;
      this.synthetic = true;
    }
  }

  /** Reads at most `count` entries after the position and hands the fields of each to `apply`, oldest first. */
  async read(redis: Redis | Cluster, count: number, apply: (fields: string[]) => void): Promise<FeedRead> {
    const entries = (await redis.xrange(this.feed, this.position, '+', 'COUNT', count + 1)) as [
      string,
      string[],
    ][];
    let start = 0;
    if (!this.synthetic) {
      if (entries.length === 0 || entries[0][0] !== this.position) return 'gone';
      start = 1;
    }
    for (let i = start; i < entries.length; i++) apply(entries[i][1]);
    if (entries.length > start) {
      const newest = entries[entries.length - 1][0];
      if (this.synthetic || compareStreamIds(newest, this.position) > 0) {
        this.position = newest;
        this.synthetic = false;
        return 'advanced';
      }
    }
    return 'unchanged';
  }
}

/** One cursor per partition of `topic`. */
export function topicCursors(
  kind: FeedKind,
  keyPrefix: string,
  topic: string,
  partitions: number,
): FeedCursor[] {
  return Array.from(
    { length: partitions },
    (_, partition) => new FeedCursor(kind, { topic, partition }, keyPrefix),
  );
}

/** Fields of one stream entry (`[f1, v1, f2, v2, ...]`) → the value of `name`. */
export function entryField(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Compares two stream ids (`ms-seq`). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = splitId(a);
  const [bm, bs] = splitId(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

function splitId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  if (dash < 0) return [BigInt(id), 0n];
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** Milliseconds part of a stream id. */
export function streamIdMs(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}
