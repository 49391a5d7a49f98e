/**
 * The run ledger in Redis: one record per (job, data interval) — status, attempts, owner, times, the result or
 * the error — and a lease per run, so two instances never run the same interval at once. A run claims its
 * interval in one script (`scripts/claimRun-3.lua`): the interval has ended by Redis's clock, its record is still
 * the one the caller read and decided on, and its lease is free; then the lease is taken (PX) and the running
 * record written. The lease is extended by its owner only (`extendLease-1.lua`); the final record is written only
 * while the interval is still this run's (`finishRun-3.lua`), which also releases the lease.
 *
 *   <prefix>jobs:{<job>}:runs            hash: interval start (ms) → run record (JSON)
 *   <prefix>jobs:{<job>}:recent          list: every record as written, newest first, the last RECENT_KEPT (so
 *                                        a reader of the latest runs never reads the whole hash)
 *   <prefix>jobs:{<job>}:lease:<start>   the owner token while a run holds the lease
 *
 * The job's keys share the hash tag `{<job>}`, so the same code runs on Redis Cluster.
 */
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import type { DataInterval } from './schedule.ts';

export type RunStatus = 'running' | 'succeeded' | 'failed';

export interface RunRecord {
  job: string;
  start: number;
  end: number;
  status: RunStatus;
  attempts: number;
  owner: string;
  startedAt: number;
  finishedAt?: number;
  /** When a failed run may be tried again. */
  nextAttemptAt?: number;
  error?: string;
  result?: Record<string, unknown>;
}

/** Writes kept in a job's `recent` list (a run writes twice: when it starts and when it ends). */
export const RECENT_KEPT = 50;

const script = (name: string) => readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
const CLAIM = script('claimRun-3');
const FINISH = script('finishRun-3');
const EXTEND = script('extendLease-1');
const RELEASE = script('releaseLease-1');

/** Why a run could not claim its interval. */
export type ClaimRefusal =
  /** Another instance holds the interval's lease. */
  | 'busy'
  /** The interval's record changed after the caller read it (another instance ran it meanwhile). */
  | 'changed'
  /** The interval has not ended by Redis's clock (the clock the leases expire on). */
  | 'not-ended';

export type RunClaim =
  /** `stored`: the running record as written, which `finish` checks the interval still holds. */
  { outcome: 'claimed'; stored: string } | { outcome: ClaimRefusal; redisTime: number };

/** The codes of claimRun-3.lua. */
const CLAIM_OUTCOMES: Readonly<Record<number, ClaimRefusal>> = {
  0: 'busy',
  [-1]: 'changed',
  [-2]: 'not-ended',
};

export interface RunLedger {
  get(job: string, start: number): Promise<RunRecord | null>;
  /** Every record of a job, newest interval first. */
  list(job: string, limit?: number): Promise<RunRecord[]>;
  put(record: RunRecord): Promise<void>;
  /**
   * The latest records written, one per interval (its newest write), newest write first; at most RECENT_KEPT
   * writes are read. Empty for a ledger written before the list existed: read `list` then.
   */
  recent(job: string): Promise<RunRecord[]>;
  /**
   * Claims (job, interval) for `record` (status running, its owner the caller): atomically, when the interval has
   * ended by Redis's clock, its record is still `previous` (as `get` returned it; null: none), and no instance
   * holds its lease, takes the lease for `leaseMs` and writes `record`.
   */
  claim(record: RunRecord, previous: RunRecord | null, leaseMs: number): Promise<RunClaim>;
  /**
   * Writes a claimed run's final record and releases its lease; false (nothing written) when the interval no
   * longer holds the record it was claimed with (`stored`): another instance took it over.
   */
  finish(record: RunRecord, stored: string): Promise<boolean>;
  /** Redis's clock (`TIME`), epoch ms: the clock leases expire on and intervals are claimed against. */
  time(): Promise<number>;
  extend(job: string, interval: DataInterval, owner: string, leaseMs: number): Promise<boolean>;
  release(job: string, interval: DataInterval, owner: string): Promise<void>;
}

export function createRunLedger(redis: Redis | Cluster, prefix = 'croupier:'): RunLedger {
  const runsKey = (job: string) => `${prefix}jobs:{${job}}:runs`;
  const leaseKey = (job: string, start: number) => `${prefix}jobs:{${job}}:lease:${start}`;
  const recentKey = (job: string) => `${prefix}jobs:{${job}}:recent`;
  /** The KEYS of claimRun-3 and finishRun-3. */
  const runKeys = (job: string, start: number) => [runsKey(job), recentKey(job), leaseKey(job, start)];
  /** Each record `get` returned, as stored: what `claim` compares the interval's record with. */
  const storedText = new WeakMap<RunRecord, string>();
  return {
    async get(job, start) {
      const text = await redis.hget(runsKey(job), String(start));
      if (text === null) return null;
      const record = JSON.parse(text) as RunRecord;
      storedText.set(record, text);
      return record;
    },
    async list(job, limit = 20) {
      const all = await redis.hgetall(runsKey(job));
      return Object.values(all)
        .map((text) => JSON.parse(text) as RunRecord)
        .sort((a, b) => b.start - a.start)
        .slice(0, limit);
    },
    async put(record) {
      const text = JSON.stringify(record);
      // One slot (the job's hash tag): the hash and the list change together.
      const replies = await redis
        .multi()
        .hset(runsKey(record.job), String(record.start), text)
        .lpush(recentKey(record.job), text)
        .ltrim(recentKey(record.job), 0, RECENT_KEPT - 1)
        .exec();
      const failed = replies?.find(([error]) => error !== null);
      if (failed) throw failed[0];
    },
    async recent(job) {
      const seen = new Set<number>();
      const out: RunRecord[] = [];
      for (const text of await redis.lrange(recentKey(job), 0, RECENT_KEPT - 1)) {
        const record = JSON.parse(text) as RunRecord;
        if (seen.has(record.start)) continue;
        seen.add(record.start);
        out.push(record);
      }
      return out;
    },
    async claim(record, previous, leaseMs) {
      const stored = JSON.stringify(record);
      const expected = previous === null ? '' : (storedText.get(previous) ?? JSON.stringify(previous));
      const [code, redisTime] = (await redis.eval(
        CLAIM,
        3,
        ...runKeys(record.job, record.start),
        record.owner,
        leaseMs,
        record.start,
        record.end,
        expected,
        stored,
        RECENT_KEPT,
      )) as [number, number];
      return code === 1 ? { outcome: 'claimed', stored } : { outcome: CLAIM_OUTCOMES[code], redisTime };
    },
    async finish(record, stored) {
      const keys = runKeys(record.job, record.start);
      const text = JSON.stringify(record);
      return (
        (await redis.eval(FINISH, 3, ...keys, record.owner, record.start, stored, text, RECENT_KEPT)) === 1
      );
    },
    async time() {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    },
    async extend(job, interval, owner, leaseMs) {
      return (await redis.eval(EXTEND, 1, leaseKey(job, interval.start), owner, leaseMs)) === 1;
    },
    async release(job, interval, owner) {
      await redis.eval(RELEASE, 1, leaseKey(job, interval.start), owner);
    },
  };
}
