/**
 * The experiments' live shadow policy evaluated over time: every carousel logs the shadow policy's probability of
 * each shown (item, slot), so its CTR per impression is estimated by SNIPS on every carousel, look after look, and
 * compared with the logged policy's observed CTR by the always-valid sequential test of src/stats (mSPRT), so an
 * operator may look as often as they like and act once the interval excludes 0.
 *
 * The test is on two proportions; the shadow side enters as its effective sample size (Kish's ESS of its
 * weights) with the SNIPS rate, which carries the extra variance the weights bring.
 */
import { CroupierError } from '../errors/index.ts';
import { type MsprtResult, msprtSequence } from '../stats/experiment.ts';
import type { LoggedCarousel } from './logged-carousel.ts';
import { liveCarouselProblem } from './logged-carousel-check.ts';

export interface LiveLook {
  /** Time of the last carousel of the look (ms). */
  until: number;
  carousels: number;
  impressions: number;
  loggedCtr: number;
  shadowCtr: number;
  effectiveSampleSize: number;
  /** Shadow − logged, with the always-valid interval and p-value up to this look. */
  test: MsprtResult;
}

export interface LiveShadowReport {
  shadowPolicy: string;
  /** Carousels with a shadow policy left out as damaged (logged-carousel-check.ts), and the first with why. */
  unusable: number;
  firstUnusable: { requestId: string; problem: string } | null;
  looks: LiveLook[];
  /** Whether the last look's interval excludes 0, and which way. */
  verdict: 'better' | 'worse' | 'not yet distinguishable';
}

/** Cumulative looks every `carousels.length / looks` carousels (default 20 looks). */
export function liveShadow(
  carousels: readonly LoggedCarousel[],
  options: { looks?: number; alpha?: number; tau?: number } = {},
): LiveShadowReport {
  const withShadow = carousels.filter(
    (c) => c.shadowPolicy !== null && c.items.every((i) => i.shadowPropensity !== null),
  );
  const logged: LoggedCarousel[] = [];
  let firstUnusable: LiveShadowReport['firstUnusable'] = null;
  for (const carousel of withShadow) {
    const problem = liveCarouselProblem(carousel);
    if (problem === null) logged.push(carousel);
    else firstUnusable ??= { requestId: carousel.requestId, problem };
  }
  if (logged.length === 0) {
    throw new CroupierError(
      'CROUPIER_ERR_SHADOW_NO_DATA',
      withShadow.length === 0
        ? 'no carousel logged a live shadow policy: give an experiment a shadow policy (model.experimentsFile) and let it run'
        : `none of the ${withShadow.length} carousels with a live shadow policy is usable (the first, ${firstUnusable?.requestId}: ${firstUnusable?.problem}): the input is damaged`,
      { read: carousels.length },
    );
  }
  const policies = new Set(logged.map((c) => c.shadowPolicy));
  const looks = Math.max(1, Math.min(options.looks ?? 20, logged.length));
  const every = Math.ceil(logged.length / looks);
  let clicks = 0;
  let impressions = 0;
  let weighted = 0;
  let sumW = 0;
  let sumW2 = 0;
  const points: Omit<LiveLook, 'test'>[] = [];
  logged.forEach((carousel, k) => {
    carousel.items.forEach((item, s) => {
      const w = (item.shadowPropensity ?? 0) / item.propensity;
      const r = carousel.clicks[s] ?? 0;
      clicks += r;
      impressions++;
      weighted += w * r;
      sumW += w;
      sumW2 += w * w;
    });
    if ((k + 1) % every === 0 || k === logged.length - 1) {
      points.push({
        until: carousel.timestamp,
        carousels: k + 1,
        impressions,
        loggedCtr: clicks / impressions,
        shadowCtr: sumW > 0 ? weighted / sumW : 0,
        effectiveSampleSize: sumW2 > 0 ? (sumW * sumW) / sumW2 : 0,
      });
    }
  });
  const tests = msprtSequence(
    points.map((p) => ({
      treatment: {
        trials: Math.max(1, Math.round(p.effectiveSampleSize)),
        successes: Math.round(p.shadowCtr * Math.max(1, Math.round(p.effectiveSampleSize))),
      },
      control: { trials: p.impressions, successes: Math.round(p.loggedCtr * p.impressions) },
    })),
    { alpha: options.alpha ?? 0.05, tau: options.tau ?? 0.01 },
  );
  const out = points.map((p, i) => ({ ...p, test: tests[i] }));
  const last = out[out.length - 1].test;
  return {
    shadowPolicy: [...policies].join(', '),
    unusable: withShadow.length - logged.length,
    firstUnusable,
    looks: out,
    verdict: last.ci[0] > 0 ? 'better' : last.ci[1] < 0 ? 'worse' : 'not yet distinguishable',
  };
}
