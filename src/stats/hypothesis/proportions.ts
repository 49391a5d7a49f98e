/**
 * z-tests of proportions: one sample against p0 (score test) and two independent samples (pooled), with an
 * optional continuity correction (the Yates correction of R's prop.test).
 */

import { CroupierError } from '../../errors/index.ts';
import { checkAlternative, checkConfidence, checkProbability, invalidArgument } from '../errors.ts';
import { normalPValue, symmetricInterval, type TestOptions, type TestResult } from './result.ts';

export interface ProportionZTestOptions extends TestOptions {
  /** Null proportion of the one-sample test (default 0.5). */
  p0?: number;
  /** Shrink |observed − expected| by half a count before standardising (default false). */
  continuityCorrection?: boolean;
}

function checkCount(name: string, successes: number, trials: number): void {
  if (!Number.isInteger(trials) || trials < 1)
    invalidArgument(`${name} trials`, `is ${trials}: it must be a positive integer`);
  if (!Number.isFinite(successes)) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_NAN',
      `${name} successes is ${successes}: it must be a finite count`,
      {
        argument: `${name} successes`,
      },
    );
  }
  if (successes < 0) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_NEGATIVE_COUNT',
      `${name} successes is ${successes}: counts cannot be negative`,
      {
        argument: `${name} successes`,
      },
    );
  }
  if (successes > trials)
    invalidArgument(`${name} successes`, `is ${successes}: it exceeds the ${trials} trials`);
}

/**
 * One sample: `proportionZTest(successes, trials, { p0 })`. Two samples: `proportionZTest([x1, x2], [n1, n2])`,
 * estimate = x1/n1 − x2/n2. The interval is the Wald interval of the estimate.
 */
export function proportionZTest(
  successes: number | readonly number[],
  trials: number | readonly number[],
  options: ProportionZTestOptions = {},
): TestResult {
  const alternative = checkAlternative(options.alternative);
  const confidence = checkConfidence(options.confidence);
  const xs = typeof successes === 'number' ? [successes] : successes;
  const ns = typeof trials === 'number' ? [trials] : trials;
  if (xs.length !== ns.length || xs.length < 1 || xs.length > 2) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_LENGTH_MISMATCH',
      `successes and trials must both hold one value (one sample) or two (two samples); got ${xs.length} and ${ns.length}`,
      { argument: 'trials' },
    );
  }
  for (let i = 0; i < xs.length; i++) checkCount(`sample ${i + 1}`, xs[i], ns[i]);
  const correct = options.continuityCorrection === true;
  if (xs.length === 1) {
    const p0 = options.p0 ?? 0.5;
    checkProbability('p0', p0, true);
    const n = ns[0];
    const p = xs[0] / n;
    const diff = p - p0;
    const shrink = correct ? Math.min(0.5 / n, Math.abs(diff)) : 0;
    const z = (Math.sign(diff) * (Math.abs(diff) - shrink)) / Math.sqrt((p0 * (1 - p0)) / n);
    return {
      statistic: z,
      pValue: normalPValue(z, alternative),
      estimate: p,
      ci: symmetricInterval(p, Math.sqrt((p * (1 - p)) / n), confidence, alternative),
      alternative,
      method: `one-sample proportion z-test${correct ? ' with continuity correction' : ''}`,
    };
  }
  const [x1, x2] = xs;
  const [n1, n2] = ns;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  if (pooled === 0 || pooled === 1) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_ZERO_VARIANCE',
      `successes are ${pooled === 0 ? 'all 0' : 'equal to trials'} in both samples: the z statistic is undefined`,
      { argument: 'successes' },
    );
  }
  const diff = p1 - p2;
  const shrink = correct ? Math.min(0.5 * (1 / n1 + 1 / n2), Math.abs(diff)) : 0;
  const z =
    (Math.sign(diff) * (Math.abs(diff) - shrink)) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return {
    statistic: z,
    pValue: normalPValue(z, alternative),
    estimate: diff,
    ci: symmetricInterval(
      diff,
      Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2),
      confidence,
      alternative,
    ),
    alternative,
    method: `two-sample proportion z-test${correct ? ' with continuity correction' : ''}`,
  };
}
