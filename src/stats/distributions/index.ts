export { beta, exponential, gamma, normal, uniform } from './continuous.ts';
export { bernoulli, binomial, geometric, poisson } from './discrete.ts';
export { chiSquared, fisherF, studentT } from './sampling.ts';
export type { ContinuousDistribution, DiscreteDistribution } from './types.ts';
