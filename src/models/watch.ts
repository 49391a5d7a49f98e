/**
 * The watch after a promotion: the new model's live click-through against the previous model's, judged by the
 * always-valid sequential test of two proportions (mSPRT, `src/stats`), so it may look as often as it likes
 * without raising the rate of false rollbacks above α. The unit is the carousel (clicked or not): the shown
 * items of one carousel share a user and a moment, so counting them as independent trials would overstate the
 * evidence. Pure: the counts come from the archive (src/train/live-ctr.ts), the verdict goes to the registry.
 *
 * The control is the promotion's holdback when it kept one — a share of users, split at random, still served by
 * the previous model over the same time — or else the previous model's carousels before the promotion: a trend
 * over time (posteriors still learning, the hour of the day) then counts as the new model's doing.
 */
import { msprtTwoProportions } from '../stats/experiment.ts';

export interface WatchSettings {
  /** How long after the promotion the watch looks; after it, the promotion is kept. */
  durationSeconds: number;
  /** The previous model's carousels of at most this long before the promotion are the baseline. */
  baselineSeconds: number;
  alpha: number;
  tau: number;
  minCarousels: number;
}

/** What one model version dealt in a window, with the clicks that followed. */
export interface ModelCounts {
  version: string;
  from: string;
  to: string;
  carousels: number;
  /** Carousels with at least one click. */
  clickedCarousels: number;
  items: number;
  clicks: number;
}

export type WatchVerdict = 'rollback' | 'keep' | 'continue';

/** What the previous model's side is: its holdback since the promotion, or its carousels before it. */
export type WatchControl = { kind: 'holdback'; percent: number } | { kind: 'before'; seconds: number };

export interface WatchLook {
  at: string;
  promotion: { at: string; from: string; to: string };
  control: WatchControl;
  newModel: ModelCounts;
  previous: ModelCounts;
  /** The sequential test of carousel click-through, new minus previous (null until both sides have data). */
  test: {
    estimate: number;
    ci: [number, number];
    pValue: number;
    statistic: number;
    alpha: number;
    tau: number;
  } | null;
  verdict: WatchVerdict;
  reason: string;
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const rate = (c: ModelCounts) => (c.carousels > 0 ? c.clickedCarousels / c.carousels : 0);

/** One look at the promotion of `promotion.to` over `promotion.from`, `elapsedSeconds` after it. */
export function judgePromotion(
  input: {
    promotion: WatchLook['promotion'];
    control: WatchControl;
    newModel: ModelCounts;
    previous: ModelCounts;
    elapsedSeconds: number;
    at: string;
  },
  settings: WatchSettings,
): WatchLook {
  const { newModel, previous } = input;
  const base = { at: input.at, promotion: input.promotion, control: input.control, newModel, previous };
  const over = input.elapsedSeconds >= settings.durationSeconds;
  const control =
    input.control.kind === 'holdback'
      ? `its ${input.control.percent} % holdback since the promotion`
      : `before the promotion`;
  const rates = `${newModel.version} ${pct(rate(newModel))} of ${newModel.carousels} carousels clicked, ${previous.version} ${pct(rate(previous))} of ${previous.carousels} (${control})`;
  if (newModel.carousels < settings.minCarousels || previous.carousels < settings.minCarousels) {
    return {
      ...base,
      test: null,
      verdict: over ? 'keep' : 'continue',
      reason: `${over ? 'the watch ended with' : 'waiting for'} ${settings.minCarousels} settled carousels on each side (${rates})`,
    };
  }
  const t = msprtTwoProportions(
    { successes: newModel.clickedCarousels, trials: newModel.carousels },
    { successes: previous.clickedCarousels, trials: previous.carousels },
    { alpha: settings.alpha, tau: settings.tau },
  );
  const test = {
    estimate: t.estimate,
    ci: t.ci,
    pValue: t.pValue,
    statistic: t.statistic,
    alpha: settings.alpha,
    tau: settings.tau,
  };
  const evidence = `${rates}; difference ${pct(t.estimate)}, always-valid ${Math.round((1 - settings.alpha) * 100)} % interval [${pct(t.ci[0])}, ${pct(t.ci[1])}], p ${t.pValue.toPrecision(3)}`;
  if (t.reject && t.ci[1] < 0) {
    return { ...base, test, verdict: 'rollback', reason: `a significant loss: ${evidence}` };
  }
  if (t.reject && t.ci[0] > 0) {
    return { ...base, test, verdict: 'keep', reason: `a significant gain: ${evidence}` };
  }
  return {
    ...base,
    test,
    verdict: over ? 'keep' : 'continue',
    reason: `${over ? 'no significant loss within the watch' : 'no significant difference yet'}: ${evidence}`,
  };
}
