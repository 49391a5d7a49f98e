/**
 * Exponential decay with a half-life: a count observed at time `t` is worth `2^(-(now - t) / halfLife)` at `now`.
 * A decayed count is kept as a pair (value, at): the value valid at time `at`. Merging two pairs moves both to
 * the later time and adds, so the result does not depend on the order in which events are folded.
 */

export interface Decayed {
  /** The decayed count, valid at `at`. */
  value: number;
  /** Time (ms since epoch) at which `value` holds; 0 with value 0 means "nothing yet". */
  at: number;
}

/** The factor a value loses over `elapsedMs`: `2^(-elapsed / halfLife)`; 1 when no time passed or time ran back. */
export function decayFactor(elapsedMs: number, halfLifeMs: number): number {
  if (elapsedMs <= 0) return 1;
  return 2 ** (-elapsedMs / halfLifeMs);
}

/** The value of `d` at time `to` (to >= d.at decays it; an earlier `to` returns the value unchanged). */
export function decayTo(d: Decayed, to: number, halfLifeMs: number): number {
  return d.value * decayFactor(to - d.at, halfLifeMs);
}

/** Sum of two decayed counts, expressed at the later of their two times. */
export function mergeDecayed(a: Decayed, b: Decayed, halfLifeMs: number): Decayed {
  if (a.at >= b.at) return { value: a.value + b.value * decayFactor(a.at - b.at, halfLifeMs), at: a.at };
  return { value: b.value + a.value * decayFactor(b.at - a.at, halfLifeMs), at: b.at };
}

/** Adds one observation of weight `weight` at time `t` to `d`, in place. */
export function addObservation(d: Decayed, t: number, weight: number, halfLifeMs: number): void {
  if (t >= d.at) {
    d.value = d.value * decayFactor(t - d.at, halfLifeMs) + weight;
    d.at = t;
  } else {
    d.value += weight * decayFactor(d.at - t, halfLifeMs);
  }
}

/** Decayed click-through rate at time `now` from decayed clicks and impressions kept at the same time. */
export function decayedCtr(clicks: Decayed, impressions: Decayed, now: number, halfLifeMs: number): number {
  const imp = decayTo(impressions, now, halfLifeMs);
  if (imp <= 0) return 0;
  return decayTo(clicks, now, halfLifeMs) / imp;
}
