/**
 * The writer of Redis state, used by the stream topology (the only writer of learned state): applies one folded
 * partition batch with one script call, exactly once (the script checks and stores the partition's offset, writes
 * the state and appends the change-feed entry in the same atomic step), and reads the stored offsets the consumer
 * seeks to on partition assignment. Keys come from `../layout/keys.ts`.
 */
import type { CdcDelta } from '../../../streams/fold/cdc.ts';
import type { ClickstreamDelta } from '../../../streams/fold/clickstream.ts';
import { CroupierError } from '../../errors/index.ts';
import { partitionKey, partitionKeyBase, type TopicPartition } from '../layout/keys.ts';
import { cdcFeedEntry, cdcPayload, clickstreamPayload, type DeadLetterCounts } from './payload.ts';
import { type ApplyOutcome, scriptOutcome } from './script-codes.ts';
import { scriptKeys } from './script-keys.ts';
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
  recentClicks: number;
  halfLifeMs: number;
  requestTtlSeconds: number;
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

export interface StateWriter {
  /** Loads the scripts on every master; call once before applying. */
  init(): Promise<void>;
  /** Last applied offset of the partition for the group, -1 when none. */
  readOffset(tp: TopicPartition): Promise<number>;
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
  const clickstream = loadStateScript('applyClickstream', 5);
  const cdc = loadStateScript('applyCdc', 4);
  const runner = createScriptRunner(redis);

  async function run(script: StateScript, tp: TopicPartition, keys: string[], args: (string | number)[]) {
    const reply = await runner.run(script, keys, args);
    return scriptOutcome(script.name, reply, { topic: tp.topic, partition: tp.partition });
  }

  return {
    async init() {
      await loadScriptOnServers(redis, clickstream);
      await loadScriptOnServers(redis, cdc);
    },
    async readOffset(tp) {
      const raw = await redis.hget(partitionKey(prefix, tp, 'offsets'), groupId);
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
      ]);
    },
    calls: () => runner.calls(),
  };
}
