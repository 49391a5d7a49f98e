/**
 * Reads a clickstream partition's state from Redis and lists every difference from a reference fold.
 * Zeros and absent fields are the same thing; decayed counts are compared at the time Redis keeps them.
 */
import { streamSchema } from '../../../src/config/schema.ts';
import { partitionKey, recentKey, type TopicPartition, userKey } from '../../../src/state/layout/index.ts';
import type { RedisClient } from '../../../src/state/writer/index.ts';
import { examinationTable } from '../../../streams/fold/position-bias.ts';
import type { ClickstreamEvent } from '../../../streams/schemas/index.ts';
import { emptyReference, type ReferenceState, referenceApply, referenceDecayed } from './reference-fold.ts';

function nonZero(entries: Iterable<[string, number]>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of entries) if (v !== 0) out.set(k, v);
  return out;
}

function diffMaps(what: string, actual: Map<string, number>, expected: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [k, v] of expected) {
    const a = actual.get(k) ?? 0;
    if (Math.abs(a - v) > 1e-9 * Math.max(1, Math.abs(v)))
      out.push(`${what} ${k}: redis ${a}, reference ${v}`);
  }
  for (const [k, v] of actual) if (!expected.has(k)) out.push(`${what} ${k}: redis ${v}, reference 0`);
  return out;
}

export async function compareWithReference(
  redis: RedisClient,
  prefix: string,
  tp: TopicPartition,
  ref: ReferenceState,
  options: { halfLifeMs: number; groupId?: string },
): Promise<string[]> {
  const out: string[] = [];
  const posterior = await redis.hgetall(partitionKey(prefix, tp, 'posterior'));
  out.push(
    ...diffMaps(
      'posterior',
      nonZero(Object.entries(posterior).map(([k, v]) => [k, Number(v)])),
      nonZero(ref.posterior),
    ),
  );
  const item = await redis.hgetall(partitionKey(prefix, tp, 'item'));
  const counters = Object.entries(item)
    .filter(([k]) => !/^d(imp|clk|ts)\|/.test(k))
    .map(([k, v]): [string, number] => [k, Number(v)]);
  out.push(...diffMaps('item', nonZero(counters), nonZero(ref.item)));
  for (const itemId of ref.decayEvents.keys()) {
    const at = Number(item[`dts|${itemId}`] ?? 0);
    for (const [field, clicks] of [
      ['dimp', false],
      ['dclk', true],
    ] as const) {
      const actual = Number(item[`${field}|${itemId}`] ?? 0);
      const expected = referenceDecayed(ref, itemId, clicks, at, options.halfLifeMs);
      if (Math.abs(actual - expected) > 1e-6 * Math.max(1, expected)) {
        out.push(`item ${field}|${itemId} at ${at}: redis ${actual}, reference ${expected}`);
      }
    }
  }
  for (const [userId, expected] of ref.user) {
    const actual = await redis.hgetall(userKey(prefix, tp, userId));
    out.push(
      ...diffMaps(
        `user ${userId}`,
        nonZero(Object.entries(actual).map(([k, v]) => [k, Number(v)])),
        nonZero(Object.entries(expected)),
      ),
    );
    const recent = await redis.lrange(recentKey(prefix, tp, userId), 0, -1);
    const expectedRecent = ref.recent.get(userId) ?? [];
    if (recent.join(',') !== expectedRecent.join(',')) {
      out.push(`recent ${userId}: redis [${recent}], reference [${expectedRecent}]`);
    }
  }
  const stats = await redis.hgetall(partitionKey(prefix, tp, 'stats'));
  if (Number(stats.events ?? 0) !== ref.events)
    out.push(`stats events: redis ${stats.events}, reference ${ref.events}`);
  if (Number(stats.orphanClicks ?? 0) !== ref.orphanClicks) {
    out.push(`stats orphanClicks: redis ${stats.orphanClicks}, reference ${ref.orphanClicks}`);
  }
  return out;
}

/** The examination table of the default `stream.positionBias` (on): what a topology with default settings folds. */
export const DEFAULT_EXAMINATION = examinationTable(streamSchema.parse({}).positionBias);

/**
 * Folds `events` (in log order) with the reference and lists every difference from the partition's state; the
 * impressions weighted by `examination` (default: the default settings' table).
 */
export async function compareEventsWithState(
  redis: RedisClient,
  prefix: string,
  tp: TopicPartition,
  events: Iterable<ClickstreamEvent>,
  examination: readonly number[] | undefined = DEFAULT_EXAMINATION,
): Promise<{ reference: ReferenceState; differences: string[] }> {
  const reference = emptyReference();
  const shown = new Map<string, string>();
  for (const event of events) referenceApply(reference, shown, event, 20, examination);
  const differences = await compareWithReference(redis, prefix, tp, reference, {
    halfLifeMs: 24 * 3600 * 1000,
  });
  return { reference, differences };
}
