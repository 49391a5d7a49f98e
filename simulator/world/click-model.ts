/**
 * The truth the simulator knows and the engine must learn.
 *
 * - Attractiveness of item i to user u: q(u, i) = σ(baseLogit + popularity_i + unseen_i + shock_i + w · ⟨taste_u, a_i⟩ / √d),
 *   σ the logistic function, w = click.tasteWeight.
 * - Position bias (examination hypothesis): slot s (0-based) is seen with probability b(s) = 1 / (1 + s)^η,
 *   η = click.positionBiasExponent. The true click probability is p(u, i, s) = b(s) · q(u, i).
 * - After a click: conversion with probability σ(conversion.baseLogit + quality_i); its value is log-normal,
 *   ln v ~ N(valueLogMean, valueLogSd²); watch time is log-normal, ln ms ~ N(logMeanMs + ½·affinity, logSd²).
 * - The scoring model's p̂ for (segment k, item i) = σ(baseLogit + popularity_i + w · ⟨c_k, a_i⟩ / √d + ε_ik + e_cat(i)):
 *   the segment centroid stands in for the user, ε is the model's error; it knows nothing of shocks nor of an
 *   item's unseen appeal (a burst's newcomers are better than their features say); e_cat
 *   (`model.categoryLogitError`) is a systematic error on a part of the catalog (0 unless a scenario sets it).
 *
 * The oracle slate puts the items of highest q in the slots of highest b (both sorted descending), which
 * maximises Σ b(s)·q(u, i) because the product is separable.
 */
import type { Rng } from '../../src/stats/rng.ts';
import type { SimItem, SimUser } from './population.ts';

export interface ClickModelParameters {
  baseLogit: number;
  tasteWeight: number;
  positionBiasExponent: number;
  conversionBaseLogit: number;
  valueLogMean: number;
  valueLogSd: number;
  watchLogMeanMs: number;
  watchLogSd: number;
  /** The scoring model's systematic logit error per category (absent: 0). */
  categoryLogitError?: Readonly<Record<string, number>>;
}

export interface Outcome {
  itemId: string;
  slot: number;
  clicked: boolean;
  converted: boolean;
  value: number;
  watchMs: number;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function affinity(taste: Float64Array, attributes: Float64Array): number {
  const d = attributes.length;
  if (d === 0) return 0;
  let dot = 0;
  for (let j = 0; j < d; j++) dot += taste[j] * attributes[j];
  return dot / Math.sqrt(d);
}

export class ClickModel {
  readonly bias: Float64Array;
  /** q(u, ·) per user, valid while `version` is unchanged (the world bumps it when tastes or shocks change). */
  private readonly cache = new Map<SimUser, { version: number; values: Float64Array }>();
  private version = 0;

  constructor(
    readonly parameters: ClickModelParameters,
    maxSlots: number,
  ) {
    this.bias = new Float64Array(maxSlots);
    for (let s = 0; s < maxSlots; s++) this.bias[s] = 1 / (1 + s) ** parameters.positionBiasExponent;
  }

  /** Forgets cached attractiveness: a taste, a segment or a shock changed. */
  invalidate(): void {
    this.version++;
  }

  /** q(u, i): the click probability in a slot that is surely seen. */
  attractiveness(user: SimUser, item: SimItem): number {
    if (item.fixedCtr !== undefined) return item.fixedCtr;
    let entry = this.cache.get(user);
    if (entry === undefined || entry.version !== this.version) {
      entry = { version: this.version, values: new Float64Array(Math.max(64, item.index + 1)).fill(-1) };
      this.cache.set(user, entry);
    } else if (item.index >= entry.values.length) {
      const grown = new Float64Array(Math.max(item.index + 1, entry.values.length * 2)).fill(-1);
      grown.set(entry.values);
      entry.values = grown;
    }
    const cached = entry.values[item.index];
    if (cached >= 0) return cached;
    const q = this.computeAttractiveness(user, item);
    entry.values[item.index] = q;
    return q;
  }

  private computeAttractiveness(user: SimUser, item: SimItem): number {
    const p = this.parameters;
    return sigmoid(
      p.baseLogit +
        item.popularity +
        item.unseenAppeal +
        item.shock +
        p.tasteWeight * affinity(user.taste, item.attributes),
    );
  }

  /** p(u, i, s) = b(s) · q(u, i). */
  clickProbability(user: SimUser, item: SimItem, slot: number): number {
    return this.bias[slot] * this.attractiveness(user, item);
  }

  /** Expected clicks of a slate (item k in slot k). */
  expectedClicks(user: SimUser, slate: readonly SimItem[]): number {
    let sum = 0;
    for (let s = 0; s < slate.length; s++) sum += this.bias[s] * this.attractiveness(user, slate[s]);
    return sum;
  }

  /** Expected clicks of the best slate of `slots` items out of `candidates`. */
  oracleClicks(user: SimUser, candidates: readonly SimItem[], slots: number): number {
    const k = Math.min(slots, candidates.length);
    const top = new Float64Array(k).fill(-1);
    for (const item of candidates) {
      const q = this.attractiveness(user, item);
      if (q <= top[k - 1]) continue;
      let j = k - 1;
      while (j > 0 && top[j - 1] < q) {
        top[j] = top[j - 1];
        j--;
      }
      top[j] = q;
    }
    let sum = 0;
    for (let s = 0; s < k; s++) sum += this.bias[s] * top[s];
    return sum;
  }

  /** The scoring model's p̂ for an item in a segment (see the file comment). */
  modelScore(centroid: Float64Array, segment: number, item: SimItem): number {
    if (item.fixedCtr !== undefined) return 0.5;
    const p = this.parameters;
    return sigmoid(
      p.baseLogit +
        item.popularity +
        p.tasteWeight * affinity(centroid, item.attributes) +
        item.modelError[segment] +
        (p.categoryLogitError?.[item.category] ?? 0),
    );
  }

  /** Draws what the user does with a slate: clicks, conversions and their values, watch times. */
  respond(rng: Rng, user: SimUser, slate: readonly SimItem[]): Outcome[] {
    const p = this.parameters;
    const outcomes: Outcome[] = [];
    for (let s = 0; s < slate.length; s++) {
      const item = slate[s];
      const clicked = rng.next() < this.clickProbability(user, item, s);
      let converted = false;
      let value = 0;
      let watchMs = 0;
      if (clicked && item.fixedCtr === undefined) {
        converted = rng.next() < sigmoid(p.conversionBaseLogit + item.quality);
        if (converted) value = Math.exp(p.valueLogMean + p.valueLogSd * rng.normal());
        const a = affinity(user.taste, item.attributes);
        watchMs = Math.round(Math.exp(p.watchLogMeanMs + 0.5 * a + p.watchLogSd * rng.normal()));
      }
      outcomes.push({ itemId: item.itemId, slot: s, clicked, converted, value, watchMs });
    }
    return outcomes;
  }
}
