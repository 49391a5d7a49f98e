/**
 * croupier's statistics library: descriptive statistics, distributions, hypothesis tests, power analysis,
 * regression, and the samplers behind exploration.
 */

export * from './bayes-ab.ts';
export { sampleBeta, sampleGamma } from './beta-sampler.ts';
export * from './calibration.ts';
export type { CorrelationOptions, CorrelationResult, VarianceOptions } from './descriptive.ts';
export {
  covariance,
  mean,
  median,
  mode,
  pearson,
  quantile,
  rank,
  spearman,
  std,
  variance,
} from './descriptive.ts';
export * from './distributions/index.ts';
export type { Alternative } from './errors.ts';
export * from './experiment.ts';
export * from './hypothesis/index.ts';
export * from './model-metrics.ts';
export * from './off-policy.ts';
export {
  type Design,
  type MeansDesign,
  type MinimumDetectableEffect,
  type MinimumDetectableEffectInput,
  minimumDetectableEffect,
  type ProportionsDesign,
  power,
  type SampleSize,
  sampleSize,
} from './power.ts';
export * from './regression/index.ts';
export { createRng, type Rng } from './rng.ts';
export * from './roc-auc-interval.ts';
export {
  type ErrorRateSimulation,
  type ErrorRates,
  type RateEstimate,
  simulateErrorRates,
  twoMeansScenario,
  twoProportionsScenario,
} from './simulate.ts';
export { betaInc, gammaP, gammaQ, logBeta, logGamma, normalCdf, normalQuantile } from './special.ts';
