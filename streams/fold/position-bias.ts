/**
 * The position-bias model (on by default). Users look at the first slots of a carousel more often than at the
 * last ones, so an impression in slot k is evidence of an *examination* only with probability e(k). With the
 * model on, the posterior counts examinations instead of raw impressions:
 *
 * - an impression in slot k adds e(k) to the arm's impressions;
 * - a click on it proves the item was examined, so it adds the missing `1 - e(k)` (the arm then counts one full
 *   examination for that impression; every further click on the same impression adds `1 - e(k)` again);
 * - e(k) = (1 / (k + 1))^eta by default (the power-law examination model of eye-tracking studies), or an explicit
 *   table of probabilities per slot; slots past the end of the table use its last entry.
 *
 * Item and user features keep raw counts; only the posterior is examination-weighted.
 */

export interface PositionBiasOptions {
  enabled: boolean;
  eta: number;
  examination: readonly number[];
}

/** Slots for which the power-law model is tabulated; later slots use the last entry. */
const TABULATED_SLOTS = 64;

/**
 * The examination probability per slot, or `undefined` when the model is off (every impression counts 1).
 * The table is what the Redis script receives, so Lua and TypeScript weigh slots identically.
 */
export function examinationTable(options: PositionBiasOptions): readonly number[] | undefined {
  if (!options.enabled) return undefined;
  if (options.examination.length > 0) return Object.freeze([...options.examination]);
  return Object.freeze(Array.from({ length: TABULATED_SLOTS }, (_, k) => (1 / (k + 1)) ** options.eta));
}

/** e(slot) from a table (1 without a table, i.e. with the model off). */
export function examinationProbability(table: readonly number[] | undefined, slot: number): number {
  if (table === undefined) return 1;
  return table[Math.min(Math.max(slot, 0), table.length - 1)];
}
