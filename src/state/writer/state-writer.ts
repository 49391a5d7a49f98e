/**
 * The writer of Redis state, used by the stream topology (the only writer of learned state): applies one folded
 * partition batch with one script call, exactly once (the script checks and stores the partition's offset, writes
 * the state and appends the change-feed entry in the same atomic step), and reads the stored offsets the consumer
 * seeks to on partition assignment. With every batch it keeps the partition's marker (`epoch`, and `rebuildUntil`
 * while a lost state is folded again), which tells readers whether the state they see is whole. Keys come from
 * `../layout/keys.ts`.
 */
import type { CdcDelta, ClickstreamDelta } from '../../domain/state-deltas.ts';
import { CroupierError } from '../../errors/index.ts';
import { partitionKey, partitionKeyBase, type TopicPartition } from '../layout/keys.ts';
import { cdcFeedEntry, cdcPayload, clickstreamPayload, type DeadLetterCounts } from './payload.ts';
import { type ApplyOutcome, scriptOutcome } from './script-codes.ts';
import { SCRIPT_KEYS, scriptKeys } from './script-keys.ts';
import {
  createScriptRunner,
  loadScriptOnServers,
  loadStateScript,
  type RedisClient,
  type StateScript,
} from './scripts.ts';

export interface StateWriterOptions {
  redis: RedisClient;
  keyPrefix: string;
  groupId: string;
  changeFeedMaxLen: number;
  /** Change-feed entries older than this are trimmed (ms; 0: by length only). */
  changeFeedMaxAgeMs?: number;
  recentClicks: number;
  halfLifeMs: number;
  requestTtlSeconds: number;
  /** How long a user's activity is kept after their last event (seconds; 0 or absent: for good). */
  userActivityTtlSeconds?: number;
  /** Examination probability per slot (position-bias model on), or undefined (off). */
  examination?: readonly number[];
}

/** Where a batch sits in its partition: the stored offset it continues from and its last offset. */
export interface BatchSpan {
  /** Last applied offset the batch continues from (-1: nothing applied yet). */
  after: number;
  /** Offset of the batch's last record. */
  last: number;
}

/** What Redis holds of a partition: its stored offset and its marker. */
export interface StoredPartitionState {
  /** Last applied offset for the group, -1 when none. */
  offset: number;
  /** When the partition's state began (ms); null when Redis holds no marker (never written, or lost). */
  epoch: number | null;
  /** While the state is being rebuilt: the offset it must reach to be whole again. */
  rebuildUntil: number | null;
}

export interface StateWriter {
  /** Loads the scripts on every master; call once before applying. */
  init(): Promise<void>;
  /** Last applied offset of the partition for the group, -1 when none. */
  readOffset(tp: TopicPartition): Promise<number>;
  /** The stored offset and the marker, read together. */
  readPartitionState(tp: TopicPartition): Promise<StoredPartitionState>;
  /**
   * Marks a partition whose state Redis lost as being rebuilt until `until` (the offset it held before) or the
   * log end last noted, whichever is later, unless the stored offset already reaches it; resolves to the stored
   * offset.
   */
  markRebuild(tp: TopicPartition, until: number): Promise<number>;
  /** The log of `tp` ends at `lastOffset` (from a fetch): a batch folded from nothing rebuilds until there. */
  noteLogEnd(tp: TopicPartition, lastOffset: number): void;
  /**
   * The Kafka log of `tp` started again below the stored offset `expected` (found past its end): keeps the folded
   * state and moves the stored offset to `logStart - 1`, so every record of the new log is applied once; records
   * the new log epoch in the marker and forgets the log end noted from the old log. `moved` (nothing written)
   * when the stored offset is no longer `expected`.
   */
  startNewLog(tp: TopicPartition, expected: number, logStart: number): Promise<ApplyOutcome>;
  applyClickstream(
    tp: TopicPartition,
    span: BatchSpan,
    delta: ClickstreamDelta,
    dlq: DeadLetterCounts,
  ): Promise<ApplyOutcome>;
  applyCdc(
    tp: TopicPartition,
    kind: 'items' | 'users',
    span: BatchSpan,
    delta: CdcDelta,
    dlq: DeadLetterCounts,
    tombstones: number,
  ): Promise<ApplyOutcome>;
  /** Script calls sent (EVALSHA, including reloads). */
  calls(): number;
}

export function createStateWriter(options: StateWriterOptions): StateWriter {
  const { redis, keyPrefix: prefix, groupId } = options;
  // A script's file is named after its number of KEYS, which the key table decides.
  const clickstream = loadStateScript('applyClickstream', SCRIPT_KEYS.applyClickstream.length);
  const cdc = loadStateScript('applyCdc', SCRIPT_KEYS.applyItems.length);
  const markRebuild = loadStateScript('markRebuild', SCRIPT_KEYS.markRebuild.length);
  const startNewLog = loadStateScript('startNewLog', SCRIPT_KEYS.startNewLog.length);
  const runner = createScriptRunner(redis);
  const logEnds = new Map<string, number>();
  const logEnd = (tp: TopicPartition) => logEnds.get(partitionKeyBase(prefix, tp)) ?? -1;
  const feedMaxAgeMs = options.changeFeedMaxAgeMs ?? 0;

  function parseOffset(tp: TopicPartition, raw: string | null): number {
    if (raw === null) return -1;
    const offset = Number(raw);
    if (!Number.isInteger(offset)) {
      throw new CroupierError(
        'CROUPIER_ERR_STREAM_OFFSET_CORRUPT',
        `the stored offset ${JSON.stringify(raw)} of ${tp.topic}:${tp.partition} is not a number; delete that field to refold the partition`,
        { ...tp, groupId },
      );
    }
    return offset;
  }

  async function run(script: StateScript, tp: TopicPartition, keys: string[], args: (string | number)[]) {
    const reply = await runner.run(script, keys, args);
    return scriptOutcome(script.name, reply, { topic: tp.topic, partition: tp.partition });
  }

  return {
    async init() {
      await loadScriptOnServers(redis, clickstream);
      await loadScriptOnServers(redis, cdc);
      await loadScriptOnServers(redis, markRebuild);
      await loadScriptOnServers(redis, startNewLog);
    },
    async readOffset(tp) {
      return parseOffset(tp, await redis.hget(partitionKey(prefix, tp, 'offsets'), groupId));
    },
    async readPartitionState(tp) {
      // One transaction: both keys are in the partition's slot, and a batch never lands between the two reads.
      const replies = await redis
        .multi()
        .hget(partitionKey(prefix, tp, 'offsets'), groupId)
        .hmget(partitionKey(prefix, tp, 'marker'), 'epoch', 'rebuildUntil')
        .exec();
      if (replies === null) throw new Error(`reading the state of ${tp.topic}:${tp.partition} was aborted`);
      const [[offsetError, raw], [markError, mark]] = replies as [
        [Error | null, string | null],
        [Error | null, (string | null)[]],
      ];
      if (offsetError || markError) throw offsetError ?? markError;
      return {
        offset: parseOffset(tp, raw),
        epoch: optionalNumber(mark[0]),
        rebuildUntil: optionalNumber(mark[1]),
      };
    },
    async markRebuild(tp, until) {
      const reply = await runner.run(markRebuild, scriptKeys(prefix, tp, 'markRebuild'), [
        groupId,
        Date.now(),
        Math.max(until, logEnd(tp)),
      ]);
      return Number(reply);
    },
    noteLogEnd(tp, lastOffset) {
      const key = partitionKeyBase(prefix, tp);
      if (lastOffset > (logEnds.get(key) ?? -1)) logEnds.set(key, lastOffset);
    },
    async startNewLog(tp, expected, logStart) {
      const keys = scriptKeys(prefix, tp, 'startNewLog');
      const outcome = await run(startNewLog, tp, keys, [groupId, expected, logStart - 1, Date.now()]);
      if (outcome.status === 'applied') logEnds.delete(partitionKeyBase(prefix, tp));
      return outcome;
    },
    applyClickstream(tp, span, delta, dlq) {
      return run(clickstream, tp, scriptKeys(prefix, tp, 'applyClickstream'), [
        groupId,
        span.after,
        span.last,
        partitionKeyBase(prefix, tp),
        clickstreamPayload(delta, dlq, options.examination),
        options.changeFeedMaxLen,
        options.recentClicks,
        options.halfLifeMs,
        options.requestTtlSeconds,
        feedMaxAgeMs,
        Date.now(),
        logEnd(tp),
        options.userActivityTtlSeconds ?? 0,
      ]);
    },
    applyCdc(tp, kind, span, delta, dlq, tombstones) {
      return run(cdc, tp, scriptKeys(prefix, tp, kind === 'items' ? 'applyItems' : 'applyUsers'), [
        groupId,
        span.after,
        span.last,
        cdcPayload(delta, dlq, tombstones),
        cdcFeedEntry(kind, delta),
        options.changeFeedMaxLen,
        feedMaxAgeMs,
        Date.now(),
        logEnd(tp),
      ]);
    },
    calls: () => runner.calls(),
  };
}

function optionalNumber(raw: string | null | undefined): number | null {
  if (raw === null || raw === undefined) return null;
  const value = Number(raw);
  return Number.isFinite(value) ? value : null;
}
