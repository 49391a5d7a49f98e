/**
 * Whether a logged carousel can be evaluated, and if not, why. The gateway logs carousels that pass, but a
 * recording is a file anyone can edit and the archive holds whatever any producer wrote to the clickstream
 * topic: a candidate set missing a field, a count of 1e308, a prior strength of −1 or a score of 1e999 in
 * either made the shadow test throw a TypeError, never finish (Thompson sampling's propensity integral on Beta
 * shapes near 0 or 1e308) or print NaN estimates. Such a carousel is counted as unusable instead, with the
 * first reason in the report.
 */
import { describeRange, inRange, LIMITS, type NumericRange } from '../domain/limits.ts';
import { isPolicyName } from '../domain/policy-names.ts';
import type { LoggedCarousel } from './logged-carousel.ts';
import { POLICY_SETTING_RANGES, POLICY_SETTINGS } from './policy-spec.ts';

/**
 * The smallest logged propensity evaluated: an importance weight is the candidate's probability over it, so a
 * propensity of 1e-300 made weights of 1e300 whose squares (the effective sample size) overflowed to NaN. The
 * gateway's Monte Carlo propensities are floored at 1e-4 and its integrated ones are accurate to about 1e-8, so
 * a propensity below 1e-12 is not one it measured.
 */
export const MIN_PROPENSITY = 1e-12;

/**
 * An arm's logged impressions and clicks: at most 1e12, more than any log holds, so that the Beta shapes stay below
 * about 1e18. The posteriors count a negative count as 0, so one is no damage.
 */
const ARM_COUNT: NumericRange = { min: -1e12, max: 1e12 };
const PROPENSITY: NumericRange = { min: MIN_PROPENSITY, max: 1 };
/** A slot's reward (clicks, conversions, watch seconds): finite, so that sums over a log stay finite. */
const REWARD: NumericRange = { min: 0, max: 1e12 };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The first entry of `list` outside `range`, described, or null. */
function listProblem(
  name: string,
  list: unknown,
  length: number,
  range: NumericRange,
  of = 'candidates',
): string | null {
  if (!Array.isArray(list)) return `${name} is not a list`;
  if (list.length !== length) return `${name} holds ${list.length} entries for ${length} ${of}`;
  const bad = list.findIndex((x) => !inRange(x, range));
  return bad < 0 ? null : `${name}[${bad}] is ${String(list[bad])}, outside ${describeRange(range)}`;
}

/** What makes the candidate set of a carousel unusable, or null. */
function candidateSetProblem(set: unknown): string | null {
  if (!isRecord(set)) return 'its candidate set is not an object';
  const ids = set.itemIds;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
    return 'its candidate set has no list of item ids';
  }
  if (new Set(ids).size !== ids.length) return 'its candidate set names an item twice';
  const n = ids.length;
  const lists: [string, NumericRange][] = [
    ['scores', LIMITS.score],
    ['impressions', ARM_COUNT],
    ['clicks', ARM_COUNT],
  ];
  for (const [name, range] of lists) {
    const problem = listProblem(`candidates.${name}`, set[name], n, range);
    if (problem !== null) return problem;
  }
  for (const key of POLICY_SETTINGS) {
    if (!inRange(set[key], POLICY_SETTING_RANGES[key])) {
      return `candidates.${key} is ${String(set[key])}, outside ${describeRange(POLICY_SETTING_RANGES[key])}`;
    }
  }
  if (set.shadowScores !== null) {
    if (typeof set.shadowModelVersion !== 'string') return 'its shadow scores name no model version';
    return listProblem('candidates.shadowScores', set.shadowScores, n, LIMITS.score);
  }
  return null;
}

/**
 * What makes `carousel` unusable for a shadow test, or null: an unknown logging policy, a shown item missing
 * from the candidate set, out of its slot, or with a score or propensity out of range, a damaged candidate set,
 * or a reward that is not a finite number ≥ 0. `index` receives each candidate's position by item id.
 */
export function loggedCarouselProblem(carousel: LoggedCarousel, index: Map<string, number>): string | null {
  if (!isPolicyName(carousel.policy)) return `its logging policy '${String(carousel.policy)}' is unknown`;
  const problem = candidateSetProblem(carousel.candidates);
  if (problem !== null) return problem;
  const ids = carousel.candidates!.itemIds;
  index.clear();
  for (let i = 0; i < ids.length; i++) index.set(ids[i], i);
  for (const [s, item] of carousel.items.entries()) {
    if (!isRecord(item) || !index.has(item.itemId))
      return `its slot ${s} shows an item not in its candidate set`;
    if (item.slot !== s) return `its slot ${s} says it is slot ${String(item.slot)}`;
    if (!inRange(item.score, LIMITS.score)) return `its slot ${s} has score ${String(item.score)}`;
    if (!inRange(item.propensity, PROPENSITY)) {
      return `its slot ${s} has propensity ${String(item.propensity)}, outside ${describeRange(PROPENSITY)}`;
    }
  }
  for (const name of ['clicks', 'conversions', 'watchSeconds'] as const) {
    const problem = listProblem(name, carousel[name], carousel.items.length, REWARD, 'shown items');
    if (problem !== null) return problem;
  }
  return null;
}

/**
 * What makes `carousel` unusable for the live shadow test (live.ts), or null: a shown item's logged propensity
 * outside [1e-12, 1] or its shadow policy's probability outside [0, 1], or a click that is not 0 or 1. A
 * propensity of 1e-300 made a weight of 1e300 and the test's trials NaN, so one such record in the archive refused
 * every later look.
 */
export function liveCarouselProblem(carousel: LoggedCarousel): string | null {
  for (const [s, item] of carousel.items.entries()) {
    if (!inRange(item.propensity, PROPENSITY)) {
      return `its slot ${s} has propensity ${String(item.propensity)}, outside ${describeRange(PROPENSITY)}`;
    }
    if (!inRange(item.shadowPropensity, LIMITS.probability)) {
      return `its slot ${s} has shadow propensity ${String(item.shadowPropensity)}, outside ${describeRange(LIMITS.probability)}`;
    }
  }
  return listProblem('clicks', carousel.clicks, carousel.items.length, { min: 0, max: 1 }, 'shown items');
}
