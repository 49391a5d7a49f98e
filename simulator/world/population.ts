/**
 * The people and things of a simulated world: users with a segment and a latent taste vector, items with a
 * category and latent attributes. Every draw comes from the `Rng` passed in, so a seed fixes the population.
 *
 * Distributions (d = scenario dimensions):
 * - segment centroid c_k ~ N(0, I_d); a user's taste = c_segment + tasteSpread · N(0, I_d);
 * - an item's attributes a ~ N(0, attributeSd² · I_d) + categoryLean · e_category (each category leans along one
 *   axis; by default sd 1 and lean 0.8);
 * - an item's popularity ~ N(0, popularitySd²) (a click-logit offset every user shares);
 * - a burst's newcomers add their `quality` to the click logit as an appeal the scoring model cannot see (it
 *   knows a new item only by its features and the catalog's popularity pattern, not how much better it is);
 * - an item's quality ~ N(0, 0.5²) (a conversion-logit offset);
 * - the scoring model's error on (item, segment) ~ N(0, model.noiseSd²), drawn once per item.
 */
import type { Rng } from '../../src/stats/rng.ts';
import type { WorldScenario } from './scenario.ts';

export interface SimUser {
  readonly index: number;
  readonly userId: string;
  segment: number;
  taste: Float64Array;
  country: string;
  device: string;
  subscribed: boolean;
}

export interface SimItem {
  readonly index: number;
  readonly itemId: string;
  readonly title: string;
  readonly category: string;
  readonly attributes: Float64Array;
  /** Click-logit offset every user shares. */
  readonly popularity: number;
  /** Click-logit offset every user shares that the scoring model cannot see (0 unless a burst's newcomer). */
  readonly unseenAppeal: number;
  /** Conversion-logit offset. */
  readonly quality: number;
  /** Temporary click-logit boost of a popularity shock (0 when none). */
  shock: number;
  /** Simulated second the item entered the catalog. */
  readonly createdAt: number;
  /** Simulated second the item retires (Infinity: never). */
  retireAt: number;
  live: boolean;
  /** The scoring model's logit error per segment. */
  readonly modelError: Float64Array;
  /** A fixed click probability (the K-armed scenario), bypassing the click model. */
  readonly fixedCtr?: number;
}

const ADJECTIVES = [
  'Silent',
  'Golden',
  'Broken',
  'Hidden',
  'Electric',
  'Crimson',
  'Lost',
  'Wild',
  'Last',
  'Blue',
];
const NOUNS = [
  'River',
  'Empire',
  'Signal',
  'Garden',
  'Orbit',
  'Harbor',
  'Frontier',
  'Echo',
  'Summit',
  'Code',
];

export function gaussianVector(rng: Rng, dimensions: number, scale = 1): Float64Array {
  const v = new Float64Array(dimensions);
  for (let j = 0; j < dimensions; j++) v[j] = scale * rng.normal();
  return v;
}

/** Draws an index with probability proportional to `weights`. */
export function pickWeighted(rng: Rng, weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total += w;
  let u = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

export function pick<T>(rng: Rng, values: readonly T[]): T {
  return values[Math.floor(rng.next() * values.length)];
}

export function createCentroids(rng: Rng, scenario: WorldScenario): Float64Array[] {
  return scenario.users.segments.map(() => gaussianVector(rng, scenario.dimensions));
}

export function createUser(
  rng: Rng,
  scenario: WorldScenario,
  centroids: readonly Float64Array[],
  index: number,
): SimUser {
  const segment = pickWeighted(
    rng,
    scenario.users.segments.map((s) => s.weight),
  );
  const taste = gaussianVector(rng, scenario.dimensions, scenario.users.tasteSpread);
  const centroid = centroids[segment];
  for (let j = 0; j < taste.length; j++) taste[j] += centroid[j];
  return {
    index,
    userId: `u${String(index).padStart(5, '0')}`,
    segment,
    taste,
    country: pick(rng, scenario.users.countries),
    device: pick(rng, scenario.users.devices),
    subscribed: rng.next() < 0.3,
  };
}

export interface NewItemOptions {
  createdAt: number;
  /** Added to the click logit, unseen by the scoring model (a burst of better items). */
  qualityBoost?: number;
}

export function createItem(
  rng: Rng,
  scenario: WorldScenario,
  index: number,
  options: NewItemOptions,
): SimItem {
  const d = scenario.dimensions;
  const categoryIndex = Math.floor(rng.next() * scenario.items.categories.length);
  const attributes = gaussianVector(rng, d, scenario.items.attributeSd);
  attributes[categoryIndex % d] += scenario.items.categoryLean;
  const popularity = scenario.items.popularitySd * rng.normal();
  const quality = 0.5 * rng.normal();
  const lifetime = scenario.items.meanLifetimeSeconds;
  const retireAt =
    lifetime === undefined
      ? Number.POSITIVE_INFINITY
      : options.createdAt - lifetime * Math.log(1 - rng.next());
  const modelError = gaussianVector(rng, scenario.users.segments.length, scenario.model.noiseSd);
  const title = `${pick(rng, ADJECTIVES)} ${pick(rng, NOUNS)} ${index}`;
  return {
    index,
    itemId: `i${String(index).padStart(5, '0')}`,
    title,
    category: scenario.items.categories[categoryIndex],
    attributes,
    popularity,
    unseenAppeal: options.qualityBoost ?? 0,
    quality,
    shock: 0,
    createdAt: options.createdAt,
    retireAt,
    live: true,
    modelError,
  };
}

/** The arms of a K-armed scenario as items with fixed click probabilities. */
export function createArms(means: readonly number[]): SimItem[] {
  return means.map((mean, index) => ({
    index,
    itemId: `arm-${index}`,
    title: `Arm ${index} (${mean})`,
    category: 'arm',
    attributes: new Float64Array(0),
    popularity: 0,
    unseenAppeal: 0,
    quality: 0,
    shock: 0,
    createdAt: 0,
    retireAt: Number.POSITIVE_INFINITY,
    live: true,
    modelError: new Float64Array(1),
    fixedCtr: mean,
  }));
}
