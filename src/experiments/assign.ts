/**
 * Deterministic assignment of users to experiment variants. A user's bucket in a layer is
 * murmur3(`<layer salt>:<userId>`) mod 10,000; each experiment of the layer owns a bucket range, so two
 * experiments of one layer never share a user, and different layer salts make layers independent. Inside an
 * experiment a second hash (salted with the experiment) splits users by variant weight. The holdout, hashed
 * with its own salt, is checked first and keeps its users out of every experiment.
 */
import type { PolicyName } from '../domain/policy-names.ts';
import type { ExperimentsConfig, VariantConfig } from './config.ts';
import { StringHasher } from './hash.ts';

export const BUCKETS = 10_000;
export const HOLDOUT = 'holdout';

export interface LayerAssignment {
  readonly layer: string;
  readonly experiment: string;
  readonly variant: string;
}

/** What a user gets: the reported experiment/variant, the merged overrides, and a shadow policy if any. */
export interface Assignment {
  /** The first layer's experiment the user is in; `holdout` for held-out users; null when none. */
  readonly experiment: string | null;
  readonly variant: string | null;
  readonly policy?: PolicyName;
  readonly priorStrength?: number;
  readonly epsilon?: number;
  readonly ucbC?: number;
  readonly shadow: PolicyName | null;
  /** Every layer's assignment, in layer order. */
  readonly layers: readonly LayerAssignment[];
}

const NONE: Assignment = Object.freeze({
  experiment: null,
  variant: null,
  shadow: null,
  layers: Object.freeze([]),
});

interface CompiledExperiment {
  readonly name: string;
  readonly salt: string;
  readonly from: number;
  readonly to: number;
  readonly variants: readonly VariantConfig[];
  /** Cumulative variant weights scaled to BUCKETS. */
  readonly cuts: Float64Array;
  readonly shadow: PolicyName | null;
}

/** Assigns users under one experiments config. Holds a reusable hashing buffer: one per decider. */
export class ExperimentAssigner {
  private readonly hasher = new StringHasher();
  private readonly config: ExperimentsConfig;
  private readonly holdoutBuckets: number;
  private readonly layers: { name: string; salt: string; experiments: CompiledExperiment[] }[];
  private readonly noExperiment: Assignment;
  private readonly held: Assignment;

  constructor(config: ExperimentsConfig) {
    this.config = config;
    this.holdoutBuckets = Math.round((config.holdout?.percent ?? 0) * (BUCKETS / 100));
    this.layers = config.layers.map((layer) => ({
      name: layer.name,
      salt: layer.salt,
      experiments: layer.experiments.map((e) => {
        const total = e.variants.reduce((sum, v) => sum + v.weight, 0);
        const cuts = new Float64Array(e.variants.length);
        let acc = 0;
        e.variants.forEach((v, i) => {
          acc += v.weight;
          cuts[i] = (acc / total) * BUCKETS;
        });
        return {
          name: e.name,
          salt: e.salt ?? e.name,
          from: Math.round(e.range[0] * (BUCKETS / 100)),
          to: Math.round(e.range[1] * (BUCKETS / 100)),
          variants: e.variants,
          cuts,
          shadow: e.shadow?.policy ?? null,
        };
      }),
    }));
    this.noExperiment = Object.freeze({ ...NONE, shadow: config.shadow?.policy ?? null });
    this.held = Object.freeze({
      experiment: HOLDOUT,
      variant: HOLDOUT,
      shadow: null,
      layers: Object.freeze([]),
    });
  }

  /** Bucket of `userId` under `salt`, in [0, 10,000). */
  bucket(salt: string, userId: string): number {
    return this.hasher.hash(salt, userId) % BUCKETS;
  }

  assign(userId: string): Assignment {
    if (this.holdoutBuckets > 0 && this.bucket(this.config.holdout!.salt, userId) < this.holdoutBuckets) {
      return this.held;
    }
    if (this.layers.length === 0) return this.noExperiment;
    let result: {
      experiment: string | null;
      variant: string | null;
      shadow: PolicyName | null;
      policy?: PolicyName;
      priorStrength?: number;
      epsilon?: number;
      ucbC?: number;
      layers: LayerAssignment[];
    } | null = null;
    for (const layer of this.layers) {
      if (layer.experiments.length === 0) continue;
      const b = this.bucket(layer.salt, userId);
      const experiment = layer.experiments.find((e) => b >= e.from && b < e.to);
      if (experiment === undefined) continue;
      const v = this.bucket(experiment.salt, userId);
      let index = 0;
      while (index < experiment.cuts.length - 1 && v >= experiment.cuts[index]) index++;
      const variant = experiment.variants[index];
      if (result === null) {
        result = { experiment: experiment.name, variant: variant.name, shadow: null, layers: [] };
      }
      result.layers.push({ layer: layer.name, experiment: experiment.name, variant: variant.name });
      if (variant.policy !== undefined) result.policy = variant.policy;
      if (variant.priorStrength !== undefined) result.priorStrength = variant.priorStrength;
      if (variant.epsilon !== undefined) result.epsilon = variant.epsilon;
      if (variant.ucbC !== undefined) result.ucbC = variant.ucbC;
      if (result.shadow === null) result.shadow = experiment.shadow;
    }
    if (result === null) return this.noExperiment;
    if (result.shadow === null) result.shadow = this.config.shadow?.policy ?? null;
    return result;
  }
}
