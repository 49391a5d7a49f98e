export { beta, exponential, gamma, normal, uniform } from './continuous.ts';
export { bernoulli, binomial, geometric, poisson } from './discrete.ts';
export type { ContinuousDistribution, DiscreteDistribution } from './distribution.ts';
export { chiSquared, fisherF, studentT } from './sampling.ts';
