/**
 * The run ledger in Redis: one record per (job, data interval) — status, attempts, owner, times, the result or
 * the error — and a lease per run, so two instances never run the same interval at once. A lease is taken with
 * SET NX PX, extended and released only by its owner (`scripts/extendLease-1.lua`, `releaseLease-1.lua`).
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
const EXTEND = script('extendLease-1');
const RELEASE = script('releaseLease-1');

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
  /** Takes the lease of (job, interval) for `owner`; false when another instance holds it. */
  acquire(job: string, interval: DataInterval, owner: string, leaseMs: number): Promise<boolean>;
  extend(job: string, interval: DataInterval, owner: string, leaseMs: number): Promise<boolean>;
  release(job: string, interval: DataInterval, owner: string): Promise<void>;
}

export function createRunLedger(redis: Redis | Cluster, prefix = 'croupier:'): RunLedger {
  const runsKey = (job: string) => `${prefix}jobs:{${job}}:runs`;
  const leaseKey = (job: string, start: number) => `${prefix}jobs:{${job}}:lease:${start}`;
  const recentKey = (job: string) => `${prefix}jobs:{${job}}:recent`;
  return {
    async get(job, start) {
      const text = await redis.hget(runsKey(job), String(start));
      return text === null ? null : (JSON.parse(text) as RunRecord);
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
    async acquire(job, interval, owner, leaseMs) {
      return (await redis.set(leaseKey(job, interval.start), owner, 'PX', leaseMs, 'NX')) === 'OK';
    },
    async extend(job, interval, owner, leaseMs) {
      return (await redis.eval(EXTEND, 1, leaseKey(job, interval.start), owner, leaseMs)) === 1;
    },
    async release(job, interval, owner) {
      await redis.eval(RELEASE, 1, leaseKey(job, interval.start), owner);
    },
  };
}
