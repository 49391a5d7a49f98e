/**
 * Retrieval: for a large pool, the few hundred candidates a decision scores. Every candidate costs a feature
 * row, an ONNX row and a posterior, so a catalog of 20,000 items made each carousel take hundreds of
 * milliseconds of the gateway's thread. When more than `maxCandidates` items pass the request's filters, the
 * decision keeps the `maxCandidates` with the highest optimistic click-through of their own arm,
 *
 *   (clicks + 1) / (impressions + 2) + 2·sd,   sd of that Beta(clicks + 1, impressions − clicks + 1),
 *
 * so items never shown (wide posteriors) and proven ones stay in, and items shown often without clicks drop out.
 * The choice is deterministic given the counts, so the logged propensities of a slate stay exact: they are
 * conditional on the retrieved set, which is the candidate set that sampled carousels log (`log.candidateSampleRate`),
 * and a shadow test replays candidate policies over that same set.
 *
 * The ranking reads every item's arm, so it is kept per (segment, category) for `refreshMs` and the requests
 * in between only look their pooled items up in it; an item that became unavailable since is not in the pool,
 * one that arrived waits for the next refresh. At most `MAX_KEYS` rankings are kept (categories come from
 * requests).
 */
import { selectTopK } from '../bandit/slate.ts';
import type { ItemInfo, StateView } from '../domain/decision.ts';
import { collectCandidates } from './candidates.ts';

const MAX_KEYS = 256;
const NOTHING: ReadonlySet<string> = new Set();

interface Ranking {
  /** When the ids were ranked. */
  at: number;
  ids: ReadonlySet<string>;
  /** Whether `ids` is a ranking (the pool passed the limit), not just what passed the filters. */
  ranked: boolean;
  /** The live pool the items below were taken from, and the retrieved items of it, in pool order. */
  pool: readonly ItemInfo[];
  items: ItemInfo[];
}

export interface RetrievalOptions {
  /** Most candidates a decision scores. */
  maxCandidates: number;
  /** How long a ranking is reused, ms. */
  refreshMs: number;
}

/** The optimistic click-through of an arm with `impressions` and `clicks` (uniform prior, mean + 2 sd). */
export function optimisticCtr(impressions: number, clicks: number): number {
  const a = clicks + 1;
  const b = Math.max(0, impressions - clicks) + 1;
  const mean = a / (a + b);
  return mean + 2 * Math.sqrt((mean * (1 - mean)) / (a + b + 1));
}

export class CandidateRetrieval {
  private readonly rankings = new Map<string, Ranking>();
  private values = new Float64Array(0);
  private order = new Int32Array(0);

  constructor(private readonly options: RetrievalOptions) {}

  /**
   * Writes the candidates of a request into `out` (a list the decider reuses; entries past the count returned
   * are stale): the live pool's available items of `category`, narrowed to at most `maxCandidates` when there
   * are more. While the pool (the view's array) and the ranking are unchanged, the retrieved items are copied
   * as they were, without a pass over the pool.
   */
  candidates(
    view: StateView,
    category: string | undefined,
    segment: string,
    now: number,
    out: ItemInfo[],
  ): number {
    const pool = view.items();
    const max = this.options.maxCandidates;
    if (pool.length <= max) return collectCandidates(pool, category, out);
    const key = `${segment}\u0000${category ?? ''}`;
    let ranking = this.rankings.get(key);
    const fresh = ranking !== undefined && now - ranking.at < this.options.refreshMs;
    if (fresh && ranking !== undefined && ranking.pool === pool) {
      const items = ranking.items;
      for (let i = 0; i < items.length; i++) out[i] = items[i];
      return items.length;
    }
    const n = collectCandidates(pool, category, out);
    // Within the limit (a category filter) nothing is narrowed; past it, the ranking of the last refresh or a new one.
    const reused = fresh && ranking?.ranked === true ? ranking : undefined;
    const ids = n <= max ? null : (reused?.ids ?? this.rank(view, out, n, segment, max));
    let kept = n;
    if (ids !== null) {
      kept = 0;
      for (let i = 0; i < n; i++) if (ids.has(out[i].itemId)) out[kept++] = out[i];
    }
    ranking = {
      at: ids !== null && reused !== undefined ? reused.at : now,
      ids: ids ?? NOTHING,
      ranked: ids !== null,
      pool,
      items: out.slice(0, kept),
    };
    this.rankings.delete(key);
    if (this.rankings.size >= MAX_KEYS) this.rankings.delete(this.rankings.keys().next().value as string);
    this.rankings.set(key, ranking);
    return kept;
  }

  /** The ids of the `max` items of `candidates[0..n)` with the highest optimistic click-through. */
  private rank(
    view: StateView,
    candidates: ItemInfo[],
    n: number,
    segment: string,
    max: number,
  ): Set<string> {
    if (this.values.length < n) {
      this.values = new Float64Array(n);
      this.order = new Int32Array(n);
    }
    const values = this.values;
    for (let i = 0; i < n; i++) {
      const arm = view.arm(candidates[i].itemId, segment);
      values[i] = optimisticCtr(arm.impressions, arm.clicks);
    }
    const k = selectTopK(values, null, n, max, this.order);
    const ids = new Set<string>();
    for (let m = 0; m < k; m++) ids.add(candidates[this.order[m]].itemId);
    return ids;
  }
}
