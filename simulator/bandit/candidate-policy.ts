/**
 * Variants of the default policy that the engine does not have, named by a spec, for
 * `simulator/report/candidate-sweep.ts`: each keeps counts per (segment, item) as the fold does and deals a slate
 * through the gateway's own `SlateExplorer`. A spec is `default`, `ts1` (untempered), `greedy`, `greedyRaw`
 * (raw counts), or `thompson|greedy` followed by any of these parts, `:`-separated:
 *
 * - `t<τ₀>`, `n<n₀>`, `m<m>`: tempering and prior strength (default τ₀ 0.3, n₀ 500, m 20; `t1`: untempered);
 * - `cal<a>`: the prior's mean r·p̂, r = (Σ clicks + a) / (Σ p̂·examinations + a) over the request's candidates;
 * - `cat<b>`: the same per category, (clicks_c + b·r) / (Σ_c p̂·examinations + b), r the request's (or 1);
 * - `rcat<b>`: p̂ times its category's calibration relative to the request's, g_c = (clicks_c/ρ + b) / (Σ_c p̂·e + b)
 *   with ρ = Σ clicks / Σ p̂·e over the request's candidates (g_c = 1 while nothing was clicked): only how much
 *   more or less a category is clicked than p̂ says, against the others, so a pool of one category (the K-armed
 *   bandit) is left as it is;
 * - `fade<A>`: the calibration fades as the candidates' mean examinations n̄ grow, r^(A/(A + n̄));
 * - `own<k>`: the calibration fades as the arm's own examinations nᵢ grow, r^(k/(k + nᵢ));
 * - `clamp<x>`: the calibration is held in [x, 1/x] before any fading;
 * - `eta<η>`: examination curve 1/(1 + k)^η (default 1, the engine's); `raw`: raw impression counts;
 * - `mean`: Thompson draws pick the slate, posterior means order it;
 * - `low<k>`: posterior means fill the first k slots, Thompson draws the rest;
 * - `ucbz<z>`: the top slot by the index μ + z·σ of the (tempered) posterior, Thompson draws the rest;
 * - `bucb<c>`: the same with Bayes-UCB's z = Φ⁻¹(1 − 1/(t·ln(t)^c)), t the segment's examinations + 2
 *   (Kaufmann, Cappé & Garivier 2012; the Beta quantile by its normal approximation);
 * - `tt<β>`: top-two Thompson sampling (Russo 2016): with probability β the slate of one draw, otherwise the
 *   slate of a fresh draw whose top item differs from the first draw's (up to 64 redraws);
 * - `ebm`: the prior strength m fitted per segment to the live counts (empirical Bayes, `empirical-prior.ts`),
 *   refitted every 128 of the segment's requests;
 * - `ebt<c>`: m kept, τ₀ = m/(c·m̂) in [0.05, 1] (the prior then weighs c·m̂ pseudo-impressions until the arm
 *   has counts of its own; the fit starts from m/(c·τ₀), where τ₀ is the spec's, before the counts move it); `ebcap`: τ₀ never above the spec's; `ebfloor<x>`: τ₀ never below x (default 0.05);
 * - `ebfit`: the fit is made (and printed by the sweep) but not used: the spec's policy as it is;
 * - `ebmin<n>`: the fit reads only arms with at least n examinations; `ebcal`: it reads the spread around r·p̂,
 *   r the segment's clicks over the clicks p̂ predicted, net of a miscalibration every arm shares; `ebpool`: one
 *   fit over every segment's arms, refitted every 128 requests;
 * - `ps<x>`: p̂ times x (0.52: the click rate at the average slot of five, as a model `croupier train` serves);
 * - `dcap<x>`: tempering scales the prior by 1/τᵢ as before but the arm's own counts by min(1/τᵢ, x), so early
 *   counts never weigh more than x times (the prior stays narrow where the model is informative);
 * - `nbar`: the temperature also comes back with the candidates' mean examinations n̄,
 *   τᵢ = 1 − (1 − τ₀)·n₀/(n₀ + nᵢ + n̄), so that an arm unlucky early is not frozen out once the others are counted.
 *
 * The slot-by-slot variants (`low`, `ucbz`, `bucb`) leave the last slot to Thompson draws, so a one-slot
 * carousel (the K-armed bandit) is plain Thompson sampling.
 */
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import { fillPosteriors, priorMean, type Tempering, UNTEMPERED } from '../../src/bandit/posterior.ts';
import { selectTopK } from '../../src/bandit/slate.ts';
import type { Rng } from '../../src/stats/rng.ts';
import { normalQuantile } from '../../src/stats/special.ts';
import { examinationProbability } from '../../streams/fold/position-bias.ts';
import type { SimItem } from '../world/population.ts';
import {
  addMomentSums,
  type PriorStrengthFit,
  REFIT_EVERY,
  SegmentMoments,
  strengthOf,
} from './empirical-prior.ts';

/** How the top slots are filled before Thompson draws fill the rest. */
type TopSlots =
  | { kind: 'mean'; slots: number }
  | { kind: 'ucb'; z: number }
  | { kind: 'bayes-ucb'; c: number };

/** How an empirical-Bayes fit of the prior strength is used. */
type EmpiricalUse =
  | { kind: 'read' }
  | { kind: 'strength' }
  | { kind: 'temperature'; scale: number; capped: boolean; floor: number };

/** How the empirical-Bayes fit reads the counts (`ebmin`, `ebcal`). */
type EmpiricalRead = Pick<PriorStrengthFit, 'minImpressions' | 'calibrated'>;

export interface Candidate {
  label: string;
  rank: 'thompson' | 'greedy';
  m: number;
  tempering: Tempering;
  /** Examination curve exponent; undefined: raw counts. */
  eta?: number;
  calibrate?: number;
  category?: number;
  /** The relative category calibration's shrinkage b (`rcat`). */
  relativeCategory?: number;
  /** The calibration fades with the candidates' mean examinations n̄: r^(A/(A + n̄)). */
  fadeMean?: number;
  /** The calibration fades with the arm's own examinations nᵢ: r^(k/(k + nᵢ)). */
  fadeOwn?: number;
  /** The calibration is held in [x, 1/x] (x < 1). */
  clamp?: number;
  meanOrder?: boolean;
  top?: TopSlots;
  /** Top-two Thompson sampling's β. */
  topTwo?: number;
  empirical?: EmpiricalUse;
  empiricalRead?: EmpiricalRead;
  /** One fit over every segment's arms instead of one per segment (`ebpool`). */
  empiricalPooled?: boolean;
  /** p̂ times this before anything else (a model calibrated to another slot). */
  scoreScale?: number;
  /** The temperature also comes back with the candidates' mean examinations n̄: τᵢ = 1 − (1 − τ₀)·n₀/(n₀ + nᵢ + n̄). */
  temperMean?: boolean;
  /** The arm's own counts weigh at most this many times under tempering (`dcap`). */
  dataCap?: number;
}

const DEFAULT_TEMPERING: Tempering = { temperature: 0.3, impressions: 500 };
const NAMED: Record<string, string> = {
  default: 'thompson',
  ts1: 'thompson:t1',
  greedy: 'greedy',
  greedyRaw: 'greedy:raw',
};

/** Reads a candidate spec (see the file comment). */
export function parseCandidate(label: string): Candidate {
  const parts = (NAMED[label] ?? label).split(':');
  if (parts[0] !== 'thompson' && parts[0] !== 'greedy')
    throw new Error(`candidate ${label}: thompson or greedy`);
  const c: Candidate = { label, rank: parts[0], m: 20, tempering: DEFAULT_TEMPERING, eta: 1 };
  let t = DEFAULT_TEMPERING.temperature;
  let n0 = DEFAULT_TEMPERING.impressions;
  let capped = false;
  let floor = 0.05;
  const read: { minImpressions?: number; calibrated?: boolean } = {};
  for (const part of parts.slice(1)) {
    const [, key, value] = /^([a-z]+)([\d.]*)$/.exec(part) ?? [];
    const x = Number(value);
    if (key === 't') t = x;
    else if (key === 'n') n0 = x;
    else if (key === 'm') c.m = x;
    else if (key === 'cal') c.calibrate = x;
    else if (key === 'cat') c.category = x;
    else if (key === 'rcat') c.relativeCategory = x;
    else if (key === 'fade') c.fadeMean = x;
    else if (key === 'own') c.fadeOwn = x;
    else if (key === 'clamp') c.clamp = x;
    else if (key === 'eta') c.eta = x;
    else if (key === 'raw') c.eta = undefined;
    else if (key === 'mean') c.meanOrder = true;
    else if (key === 'low') c.top = { kind: 'mean', slots: x };
    else if (key === 'ucbz') c.top = { kind: 'ucb', z: x };
    else if (key === 'bucb') c.top = { kind: 'bayes-ucb', c: x };
    else if (key === 'tt') c.topTwo = x;
    else if (key === 'ebm') c.empirical = { kind: 'strength' };
    else if (key === 'ebfit') c.empirical = { kind: 'read' };
    else if (key === 'ebt') c.empirical = { kind: 'temperature', scale: value === '' ? 1 : x, capped, floor };
    else if (key === 'ebcap') capped = true;
    else if (key === 'ebfloor') floor = x;
    else if (key === 'ebmin') read.minImpressions = x;
    else if (key === 'ebcal') read.calibrated = true;
    else if (key === 'ebpool') c.empiricalPooled = true;
    else if (key === 'ps') c.scoreScale = x;
    else if (key === 'nbar') c.temperMean = true;
    else if (key === 'dcap') c.dataCap = x;
    else throw new Error(`candidate ${label}: unknown part ${part}`);
  }
  if (c.empirical?.kind === 'temperature') c.empirical = { ...c.empirical, capped, floor };
  if (Object.keys(read).length > 0) c.empiricalRead = read;
  c.tempering = t >= 1 ? UNTEMPERED : { temperature: t, impressions: n0 };
  return c;
}

/** Counts per (segment, item) as the fold keeps them, and a candidate's slate from them. */
export class CandidatePolicy {
  private readonly impressions: Float64Array[];
  private readonly clicks: Float64Array[];
  private readonly moments: SegmentMoments[] | undefined;
  private readonly explorer = new SlateExplorer({ replicates: 1, delta: 0.05 });
  private scores = new Float32Array(1024);
  private index = new Float64Array(1024);
  private readonly examination: number[] | undefined;
  private readonly params = { epsilon: 0, ucbC: 0 };
  private readonly examined: Float64Array;
  /** Every m̂ the empirical-Bayes fit gave, in the order of the refits (all segments). */
  readonly fits: number[] = [];
  private readonly pooled = { requests: 0, strength: 0 };

  constructor(
    private readonly c: Candidate,
    private readonly rng: Rng,
    segments: number,
    items: number,
  ) {
    this.impressions = Array.from({ length: segments }, () => new Float64Array(items));
    this.clicks = Array.from({ length: segments }, () => new Float64Array(items));
    this.examined = new Float64Array(segments);
    if (c.empirical !== undefined)
      this.moments = Array.from({ length: segments }, () => new SegmentMoments(items, this.fits));
    const eta = c.eta;
    this.examination =
      eta === undefined ? undefined : Array.from({ length: 64 }, (_, k) => (1 / (k + 1)) ** eta);
  }

  choose(segment: number, candidates: readonly SimItem[], slots: number, score: (i: SimItem) => number) {
    const n = candidates.length;
    const ex = this.explorer;
    ex.ensure(n);
    if (this.scores.length < n) {
      this.scores = new Float32Array(2 * n);
      this.index = new Float64Array(2 * n);
    }
    const seen = this.impressions[segment];
    const clicked = this.clicks[segment];
    const moments = this.moments?.[segment];
    for (let i = 0; i < n; i++) {
      const item = candidates[i];
      this.scores[i] = score(item) * (this.c.scoreScale ?? 1);
      ex.impressions[i] = seen[item.index];
      ex.clicks[i] = clicked[item.index];
      if (moments !== undefined) moments.lastScore[item.index] = this.scores[i];
    }
    this.calibrate(candidates, n);
    const { m, tempering } = this.priorOf(segment);
    if ((this.c.temperMean || this.c.dataCap !== undefined) && tempering.temperature < 1) {
      fillPosteriors(this.scores, ex.impressions, ex.clicks, m, n, ex.alpha, ex.beta, UNTEMPERED);
      let mean = 0;
      if (this.c.temperMean) for (let i = 0; i < n; i++) mean += ex.impressions[i] / n;
      const { temperature: t0, impressions: n0 } = tempering;
      const cap = this.c.dataCap ?? Number.POSITIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const scale = 1 / (1 - ((1 - t0) * n0) / (n0 + ex.impressions[i] + mean));
        const prior = m * priorMean(this.scores[i]);
        const a = ex.alpha[i] - prior;
        const b = ex.beta[i] - (m - prior);
        const data = Math.min(scale, cap);
        ex.alpha[i] = scale * prior + data * a;
        ex.beta[i] = scale * (m - prior) + data * b;
      }
    } else {
      fillPosteriors(this.scores, ex.impressions, ex.clicks, m, n, ex.alpha, ex.beta, tempering);
    }
    if (this.c.rank === 'thompson' && this.c.top !== undefined) {
      return this.topThenThompson(segment, n, slots).map((i) => candidates[i]);
    }
    if (this.c.rank === 'thompson' && this.c.topTwo !== undefined) {
      return this.topTwo(n, slots).map((i) => candidates[i]);
    }
    const chosen = Array.from(ex.order.subarray(0, ex.rank(this.c.rank, n, slots, this.params, this.rng)));
    if (this.c.meanOrder) {
      const mean = (i: number) => ex.alpha[i] / (ex.alpha[i] + ex.beta[i]);
      chosen.sort((a, b) => mean(b) - mean(a));
    }
    return chosen.map((i) => candidates[i]);
  }

  /** The prior strength and tempering of this request: the spec's, or set by the segment's empirical fit. */
  private priorOf(segment: number): { m: number; tempering: Tempering } {
    const { m, tempering, empirical } = this.c;
    const moments = this.moments?.[segment];
    if (empirical === undefined || moments === undefined) return { m, tempering };
    // The fit starts where it leaves the spec's τ₀ as it is: m/τ₀ pseudo-impressions, or m/(c·τ₀) for `ebt<c>`.
    const scale = empirical.kind === 'temperature' ? empirical.scale : 1;
    const fit = {
      prior: m / (scale * tempering.temperature),
      priorWeight: 5000,
      min: 1,
      max: 2000,
      ...this.c.empiricalRead,
    };
    const fitted = this.c.empiricalPooled
      ? this.pooledFit(fit)
      : moments.fitted(this.impressions[segment], this.clicks[segment], fit);
    if (empirical.kind === 'read') return { m, tempering };
    if (empirical.kind === 'strength') return { m: fitted, tempering };
    let t = Math.min(1, Math.max(empirical.floor, m / (empirical.scale * fitted)));
    if (empirical.capped) t = Math.min(t, tempering.temperature);
    const impressions = tempering.temperature < 1 ? tempering.impressions : DEFAULT_TEMPERING.impressions;
    return { m, tempering: t >= 1 ? UNTEMPERED : { temperature: t, impressions } };
  }

  /** One m̂ over every segment's arms (`ebpool`), refitted every `REFIT_EVERY` requests of all segments. */
  private pooledFit(fit: PriorStrengthFit): number {
    const all = this.moments as SegmentMoments[];
    if (this.pooled.requests++ % REFIT_EVERY === 0) {
      const sums = { excess: 0, scale: 0 };
      for (const [s, moments] of all.entries())
        addMomentSums(moments.armMoments(this.impressions[s], this.clicks[s]), fit, sums);
      this.pooled.strength = strengthOf(sums, fit);
      this.fits.push(this.pooled.strength);
    }
    return this.pooled.strength;
  }

  /** The top slots by the spec's index (all but the last slot at most), Thompson draws for the rest. */
  private topThenThompson(segment: number, n: number, slots: number): number[] {
    const ex = this.explorer;
    const top = this.c.top as TopSlots;
    const fixed = Math.min(top.kind === 'mean' ? top.slots : 1, slots - 1, n);
    let first: number[] = [];
    if (fixed > 0 && top.kind === 'mean') {
      first = Array.from(ex.order.subarray(0, ex.rank('greedy', n, fixed, this.params, this.rng)));
    } else if (fixed > 0) {
      const z = top.kind === 'bayes-ucb' ? this.bayesUcbZ(segment, top.c) : top.kind === 'ucb' ? top.z : 0;
      for (let i = 0; i < n; i++) {
        const a = ex.alpha[i];
        const b = ex.beta[i];
        const s = a + b;
        this.index[i] = a / s + (z === 0 ? 0 : z * Math.sqrt((a * b) / (s * s * (s + 1))));
        ex.values[i] = this.rng.next();
      }
      const k = selectTopK(this.index, ex.values, n, fixed, ex.order);
      first = Array.from(ex.order.subarray(0, k));
    }
    const drawn = Array.from(
      ex.order.subarray(0, ex.rank('thompson', n, Math.min(n, slots + first.length), this.params, this.rng)),
    );
    const rest = drawn.filter((i) => !first.includes(i));
    return [...first, ...rest].slice(0, slots);
  }

  private bayesUcbZ(segment: number, c: number): number {
    const t = this.examined[segment] + 2;
    return normalQuantile(1 - 1 / (t * Math.log(t) ** c));
  }

  /** Top-two Thompson sampling over slates (see the file comment). */
  private topTwo(n: number, slots: number): number[] {
    const ex = this.explorer;
    const k = ex.rank('thompson', n, slots, this.params, this.rng);
    const leader = Array.from(ex.order.subarray(0, k));
    if (n < 2 || this.rng.next() < (this.c.topTwo as number)) return leader;
    for (let tries = 0; tries < 64; tries++) {
      const again = ex.rank('thompson', n, slots, this.params, this.rng);
      if (ex.order[0] !== leader[0]) return Array.from(ex.order.subarray(0, again));
    }
    return leader;
  }

  /** The candidate's calibration of p̂ (in place): by the request's ratio, then by its category's. */
  private calibrate(candidates: readonly SimItem[], n: number): void {
    const { calibrate, category, relativeCategory } = this.c;
    if (calibrate === undefined && category === undefined && relativeCategory === undefined) return;
    const ex = this.explorer;
    let clicks = 0;
    let predicted = 0;
    const byCategory = new Map<string, [number, number]>();
    for (let i = 0; i < n; i++) {
      clicks += ex.clicks[i];
      predicted += this.scores[i] * ex.impressions[i];
      const sums = byCategory.get(candidates[i].category) ?? [0, 0];
      sums[0] += ex.clicks[i];
      sums[1] += this.scores[i] * ex.impressions[i];
      byCategory.set(candidates[i].category, sums);
    }
    let r = calibrate === undefined ? 1 : (clicks + calibrate) / (predicted + calibrate);
    if (this.c.fadeMean !== undefined) {
      let examinations = 0;
      for (let i = 0; i < n; i++) examinations += ex.impressions[i];
      const a = this.c.fadeMean;
      r **= a / (a + examinations / n);
    }
    const bound = this.c.clamp;
    if (bound !== undefined) r = Math.min(1 / bound, Math.max(bound, r));
    const own = this.c.fadeOwn;
    for (let i = 0; i < n; i++) {
      let ratio = own === undefined ? r : r ** (own / (own + ex.impressions[i]));
      if (category !== undefined) {
        const [c, p] = byCategory.get(candidates[i].category) ?? [0, 0];
        ratio = (c + category * r) / (p + category);
      }
      if (relativeCategory !== undefined && clicks > 0) {
        const [c, p] = byCategory.get(candidates[i].category) ?? [0, 0];
        ratio *= ((c * predicted) / clicks + relativeCategory) / (p + relativeCategory);
      }
      this.scores[i] = Math.min(0.95, this.scores[i] * ratio);
    }
  }

  observe(segment: number, item: SimItem, slot: number, clicked: boolean): void {
    const examination = examinationProbability(this.examination, slot);
    const weight = clicked ? 1 : examination;
    this.impressions[segment][item.index] += weight;
    this.examined[segment] += weight;
    if (clicked) this.clicks[segment][item.index] += 1;
    this.moments?.[segment].add(item.index, weight);
  }
}
